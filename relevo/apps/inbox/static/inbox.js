// The agent's inbox: conversations, the chat pane, the WhatsApp connector and
// today's figures — all live queries on t:<tenant>:... (the tenant of the
// agent's token; the server refuses any other). No per-event listeners: each
// collection applies its records' changes.

import { attention } from "/static/ui/attention.js";
import * as ui from "/static/ui/ui.js";
import { avatar, ChatPane } from "./chat.js";
import { connect, errorText, fmtPhone, getConfig, requireSession, topbar, whoami } from "./common.js";
import { cloudControls } from "./cloud.js";
import { connectorCard } from "./connector.js";
import { QuickReplies } from "./quick.js";

const $ = (id) => document.getElementById(id);
const state = { convs: new Map(), agents: new Map(), filter: "abiertas", search: "", selected: null, els: new Map(), stats: null };
const list = $("convs");

// -- the conversation list ------------------------------------------------------------------

const byRecent = (a, b) => (b.last_at || b.updated_at) - (a.last_at || a.updated_at) || Number(b.id) - Number(a.id);

function visible(c) {
  const q = state.search.trim().toLowerCase();
  if (q && !`${c.contact_name} ${c.contact_phone} ${c.last_text}`.toLowerCase().includes(q)) return false;
  if (state.filter === "abiertas") return c.state === "abierta";
  if (state.filter === "sin_leer") return c.unread > 0;
  if (state.filter === "mias") return c.assigned_to === state.session.user;
  return true;
}

function item(c) {
  const el = ui.h("li", { class: "list-item is-clickable ib-conv", role: "option", tabindex: "-1", "data-id": c.id, onclick: () => select(c.id) });
  return el;
}

// The list is a listbox with one tab stop (the open conversation, else the
// first shown): arrows move through it, Home/End jump, Enter or Space opens.
function keepTabStop() {
  const focused = document.activeElement;
  const stop = list.contains(focused) ? focused : state.selected && state.els.get(state.selected);
  const target = stop && !stop.hidden ? stop : list.querySelector(".ib-conv:not([hidden])");
  for (const el of state.els.values()) el.tabIndex = el === target ? 0 : -1;
}

function onListKey(e) {
  const items = [...list.querySelectorAll(".ib-conv:not([hidden])")];
  const i = items.indexOf(document.activeElement);
  if (i < 0) return;
  const to = { ArrowDown: i + 1, ArrowUp: i - 1, Home: 0, End: items.length - 1 }[e.key];
  if (to !== undefined) {
    e.preventDefault();
    const next = items[Math.max(0, Math.min(items.length - 1, to))];
    for (const el of items) el.tabIndex = el === next ? 0 : -1;
    next.focus();
  } else if (e.key === "Enter" || e.key === " ") {
    e.preventDefault();
    select(items[i].dataset.id);
  }
}
list.addEventListener("keydown", onListKey);

function paintItem(el, c) {
  el.setAttribute("aria-selected", String(state.selected === c.id));
  el.dataset.unread = String(c.unread || 0);
  el.dataset.state = c.state;
  el.replaceChildren(
    avatar(c),
    ui.h("div", { class: "grow" },
      ui.h("div", { class: "ib-conv-top" },
        ui.h("span", { class: "title" }, c.contact_name || fmtPhone(c.contact_phone)),
        ui.h("span", { class: "time" }, c.last_at ? shortWhen(c.last_at) : "")),
      ui.h("div", { class: "ib-conv-bottom" },
        ui.h("span", { class: "sub" }, c.last_direction === "out" ? "Tú: " : "", c.last_text || ""),
        c.unread ? ui.badge(c.unread, { kind: "success", label: `${c.unread} sin leer` }) : null),
      c.assigned_name || c.state === "resuelta"
        ? ui.h("div", { class: "ib-conv-tags" },
            c.assigned_name ? ui.h("span", { class: "ib-assignee" }, ui.icon("user", { size: 12 }), c.assigned_name) : null,
            c.state === "resuelta" ? ui.chip("resuelta") : null)
        : null));
}

function shortWhen(ms) {
  const d = new Date(ms);
  return d.toDateString() === new Date().toDateString() ? ui.fmtTime(ms) : ui.timeAgo(ms);
}

function renderList() {
  list.removeAttribute("aria-busy");
  const rows = [...state.convs.values()].sort(byRecent);
  let prev = null;
  let shown = 0;
  for (const c of rows) {
    let el = state.els.get(c.id);
    if (!el) {
      el = item(c);
      state.els.set(c.id, el);
    }
    paintItem(el, c);
    el.hidden = !visible(c);
    shown += el.hidden ? 0 : 1;
    const want = prev ? prev.nextSibling : list.firstChild;
    if (want !== el) list.insertBefore(el, want);
    prev = el;
  }
  for (const [id, el] of state.els) if (!state.convs.has(id)) { el.remove(); state.els.delete(id); }
  keepTabStop();
  let empty = list.querySelector(".ib-list-empty");
  if (!shown) {
    if (!empty) empty = ui.h("li", { class: "ib-list-empty" });
    empty.replaceChildren(ui.emptyState({ icon: "inbox", small: true, title: state.convs.size ? "Nada con este filtro" : "Sin conversaciones", text: state.convs.size ? "" : "Los mensajes entrantes aparecen aquí al instante." }));
    list.append(empty);
  } else if (empty) empty.remove();
  renderFigures();
}

function select(id) {
  state.selected = id;
  const conv = state.convs.get(id);
  for (const [cid, el] of state.els) el.setAttribute("aria-selected", String(cid === id));
  if (!conv) return chat.empty();
  chat.open(conv);
  chat.markRead(conv);
  history.replaceState(null, "", `#c=${encodeURIComponent(id)}`);
  // On a phone the list and the chat are two screens (inbox.css): this one is the chat.
  if (document.body.dataset.view !== "chat") {
    document.body.dataset.view = "chat";
    window.scrollTo(0, 0);
  }
}

/** The phone's back button: from the chat to the list, where the agent was. */
function backToList() {
  const id = state.selected;
  state.selected = null;
  for (const el of state.els.values()) el.setAttribute("aria-selected", "false");
  chat.empty();
  history.replaceState(null, "", location.pathname);
  document.body.dataset.view = "list";
  state.els.get(id)?.scrollIntoView({ block: "center" });
  state.els.get(id)?.focus();
}

function step(delta) {
  const ids = [...state.convs.values()].sort(byRecent).filter(visible).map((c) => c.id);
  if (!ids.length) return;
  const i = ids.indexOf(state.selected);
  select(ids[Math.max(0, Math.min(ids.length - 1, i < 0 ? 0 : i + delta))]);
  state.els.get(state.selected)?.scrollIntoView({ block: "nearest" });
}

// -- figures -------------------------------------------------------------------------------------

function setStat(name, value, foot) {
  const card = document.querySelector(`[data-stat="${name}"]`);
  const v = card.querySelector(".stat-value");
  const text = ui.fmtNumber(value);
  if (v.textContent !== text && v.textContent !== "–") ui.flash(card);
  v.textContent = text;
  if (foot !== undefined) card.querySelector(".stat-foot").textContent = foot;
}

function renderFigures() {
  // Only open conversations count: resolving reads one, and a count left on a
  // resolved one (older data) is nothing waiting for an answer.
  const open = [...state.convs.values()].filter((c) => c.state === "abierta");
  setStat("abiertas", open.length, ui.plural(open.length, "conversación", "conversaciones", { number: false }));
  const unread = open.reduce((n, c) => n + (c.unread || 0), 0);
  setStat("sin_leer", unread, ui.plural(unread, "mensaje", "mensajes", { number: false }));
  document.title = unread ? `(${unread}) Bandeja · ${state.session.tenantName || state.session.tenant}` : `Bandeja · ${state.session.tenantName || state.session.tenant}`;
  const s = state.stats;
  if (s) {
    setStat("entrantes", s.entrantes || 0, ui.plural(s.nuevas || 0, "conversación nueva", "conversaciones nuevas"));
    setStat("salientes", s.salientes || 0);
  }
}

// -- live ---------------------------------------------------------------------------------------

// Attention outside the tab (off by default, per agent): a chime and a
// desktop notification for each new message, the unread count in the title.
let alerts = null;

function onConversations(rows, change) {
  state.convs = rows;
  renderList();
  alerts?.count([...rows.values()].reduce((n, c) => n + (c.state === "abierta" ? c.unread || 0 : 0), 0));
  if (change.type === "snapshot") {
    const wanted = new URLSearchParams(location.hash.slice(1)).get("c");
    if (wanted && rows.has(wanted) && !state.selected) select(wanted);
    return;
  }
  const c = change.row;
  if (!c) return;
  const el = state.els.get(c.id);
  if (state.selected === c.id) {
    chat.update(c);
    if (c.unread) chat.markRead(c);
  }
  const fresh = c.last_direction === "in" && c.last_at && (!change.previous || c.last_at > (change.previous.last_at || 0));
  if (!fresh) return;
  if (el) ui.flash(el);
  alerts?.notify(`Nuevo mensaje de ${c.contact_name || fmtPhone(c.contact_phone)}`, c.last_text || "", { tag: `conv-${c.id}` });
  if (state.selected !== c.id) {
    ui.toast(c.last_text, { title: `Nuevo mensaje de ${c.contact_name || fmtPhone(c.contact_phone)}`, action: { label: "Abrir", run: () => select(c.id) } });
  }
  ui.announce(`Nuevo mensaje de ${c.contact_name || fmtPhone(c.contact_phone)}: ${c.last_text}`);
}

const session = requireSession();
let chat;

async function main() {
  const config = await getConfig();
  state.session = await whoami(session);
  const rv = connect(state.session, config);
  topbar(state.session, rv, "inbox");
  alerts = attention({ key: `inbox.${state.session.user}`, what: "un mensaje nuevo de WhatsApp", id: "avisos" });
  alerts.button.classList.add("btn-sm");
  document.querySelector(".ib-list-tools").append(alerts.button);
  ui.hydrateIcons(document.body);
  const banner = $("offline");
  rv.on("state", (s, status) => {
    banner.hidden = s === "connected" || !status.everConnected;
    banner.textContent = s === "connecting" ? "Reconectando… Los mensajes que lleguen mientras tanto aparecerán al volver la conexión." : "Sin conexión con el servidor. Reintentando…";
  });
  const tenant = state.session.tenant;
  const quick = new QuickReplies(rv, tenant, { supervisor: state.session.roles.includes("supervisor") });
  chat = new ChatPane($("chat"), { rv, session: state.session, agents: state.agents, quick, onBack: backToList });
  connectorCard($("connector"), { rv, tenant, simulator: config.simulator });
  cloudControls($("connector"), { supervisor: state.session.roles.includes("supervisor") });
  for (const panel of [$("stats"), $("connector"), document.querySelector(".ib-list-pane"), $("chat")]) ui.bindStale(panel, rv);
  rv.live("inbox_agent", { tenant }, { onChange: (rows) => { state.agents.clear(); for (const [k, v] of rows) state.agents.set(k, v); if (chat.conv) { chat.update(chat.conv); chat.paintTeam(); } } });
  rv.live("inbox_stats", { tenant }, { onChange: (rows) => { state.stats = rows.get(tenant) || null; renderFigures(); } });
  rv.live("inbox_conversation", { tenant }, {
    newest: "updated", // past the limit, the conversations active lately
    onChange: onConversations,
    onError: (err) => list.replaceChildren(ui.h("li", { class: "alert alert-danger" }, ui.icon("danger"), ui.h("div", errorText(err)))),
  });
  ui.segmented($("conv-filter"), (value) => { state.filter = value; renderList(); });
  $("search").addEventListener("input", (e) => { state.search = e.target.value; renderList(); });
  document.addEventListener("visibilitychange", () => {
    const c = state.selected && state.convs.get(state.selected);
    if (c) chat.markRead(c);
  });
  ui.shortcuts({
    "/": { run: ui.focusSearch("#search"), label: "Buscar conversación" },
    j: { run: () => step(1), label: "Siguiente conversación" },
    k: { run: () => step(-1), label: "Conversación anterior" },
    r: { run: () => $("reply")?.focus(), label: "Responder" },
  });
  window.__inboxReady = true;
}

if (session) {
  main().catch((err) => {
    $("chat").replaceChildren(ui.h("div", { class: "alert alert-danger" }, ui.icon("danger"), ui.h("div", `No se pudo cargar: ${err.message}`)));
  });
}
