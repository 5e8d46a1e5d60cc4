// Bulk sends: the form, and every campaign of the tenant as a live query
// (t:<tenant>:bulk) whose progress bar moves with each bulk:progress. Only a
// supervisor starts (after confirming the count) or cancels one — the server
// enforces it; an agent sees the progress only.

import * as ui from "/static/ui/ui.js";
import { api, connect, errorText, getConfig, requireSession, topbar, whoami } from "./common.js";

const $ = (id) => document.getElementById(id);
const els = new Map();
let contacts = 0;
let config;
let supervisor = false;
const sent = (n) => ui.plural(n, "enviado", "enviados");
const failed = (n) => ui.plural(n, "fallido", "fallidos");
const recipients = (n) => ui.plural(n, "contacto", "contactos");

function pct(c) {
  return c.total ? Math.round((100 * ((c.enviados || 0) + (c.fallidos || 0))) / c.total) : 0;
}

function campaign(c) {
  let el = els.get(c.id);
  if (!el) {
    el = ui.h("article", { class: "card ib-campaign", "data-id": c.id });
    els.set(c.id, el);
  }
  const done = (c.enviados || 0) + (c.fallidos || 0);
  el.dataset.state = c.state;
  const running = c.state === "en_cola" || c.state === "enviando";
  el.replaceChildren(
    ui.h("div", { class: "ib-campaign-head" },
      ui.h("div", { class: "grow" },
        ui.h("div", { class: "strong" }, c.nombre),
        ui.h("div", { class: "muted small" }, `${c.creado_por_nombre || c.creado_por || ""} · ${ui.fmtDateTime(c.created_at)}`)),
      ui.chip(c.state),
      running && supervisor ? ui.h("button", { type: "button", class: "btn btn-sm btn-ghost", "data-action": "cancel", onclick: (e) => cancel(c, e.currentTarget) }, "Cancelar") : null),
    ui.h("div", { class: ["progress", c.state === "completado" && "success"], role: "progressbar", "aria-label": `Avance de ${c.nombre}`, "aria-valuemin": "0", "aria-valuemax": String(c.total), "aria-valuenow": String(done) },
      ui.h("span", { style: { "--value": `${pct(c)}%` } })),
    ui.h("div", { class: "ib-campaign-nums" },
      ui.h("span", { class: "pct" }, `${pct(c)} %`),
      ui.h("span", { class: "ib-sent" }, `${ui.fmtNumber(c.enviados || 0)} de ${sent(c.total)}`),
      c.fallidos ? ui.h("span", { class: "text-danger ib-failed" }, failed(c.fallidos)) : null,
      ui.h("span", { class: "spacer" }),
      c.finished_at && c.started_at ? ui.h("span", { class: "muted" }, `en ${ui.humanDuration(Math.max(1, Math.round((c.finished_at - c.started_at) / 1000)))}`) : null),
    ui.h("div", { class: "ib-campaign-text" }, c.texto));
  return el;
}

function render(rows, change) {
  const root = $("campaigns");
  const list = [...rows.values()].sort((a, b) => b.created_at - a.created_at);
  root.replaceChildren(...list.map(campaign));
  if (!list.length) root.replaceChildren(ui.h("div", { class: "card" }, ui.emptyState({ icon: "send", title: "Aún no hay envíos", text: "Crea uno con el formulario: su avance aparecerá aquí en vivo." })));
  if (change.type === "update" && change.previous && change.previous.state !== change.row.state) {
    const c = change.row;
    if (c.state === "completado") ui.toast(`${sent(c.enviados || 0)}${c.fallidos ? `, ${failed(c.fallidos)}` : ""}.`, { kind: "success", title: `Envío "${c.nombre}" completado` });
    if (c.state === "cancelado") ui.toast(`Se detuvo con ${ui.fmtNumber(c.enviados || 0)} de ${sent(c.total)}.`, { kind: "warning", title: `Envío "${c.nombre}" cancelado` });
  }
  if (change.type === "insert") ui.flash(els.get(change.id));
}

async function cancel(c, button) {
  if (!(await ui.confirm({ name: "inbox-bulk-cancel", title: "¿Cancelar el envío?", message: `Los mensajes de "${c.nombre}" que aún no salieron no se enviarán.`, confirmLabel: "Cancelar envío", cancelLabel: "Seguir enviando", danger: true }))) return;
  try {
    await ui.busy(button, api(`/api/inbox/bulk/${encodeURIComponent(c.id)}/cancel`, { method: "POST" }));
  } catch (err) {
    ui.toast(errorText(err), { kind: "danger" });
  }
}

function phones() {
  return $("phones").value.split(/[\n,;]+/).map((p) => p.trim()).filter(Boolean);
}

function recipientsLabel() {
  const lista = document.querySelector('input[name="dest"]:checked').value === "lista";
  $("phones").hidden = !lista;
  const n = lista ? phones().length : contacts;
  $("start").replaceChildren(ui.icon("send"), n ? `Enviar a ${recipients(n)}` : "Enviar");
  return n;
}

async function submit(e) {
  e.preventDefault();
  const lista = document.querySelector('input[name="dest"]:checked').value === "lista";
  const body = { nombre: $("nombre").value, texto: $("texto").value, destinatarios: lista ? phones() : "todos" };
  for (const el of document.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  // Nothing leaves without a confirmation of how many it goes to. (An incomplete
  // form goes straight to the server, which sends nothing and says what is missing.)
  const n = recipientsLabel();
  const complete = body.nombre.trim() && body.texto.trim() && n > 0;
  if (complete && !(await ui.confirm({
    name: "inbox-bulk-confirm",
    title: `¿Enviar a ${recipients(n)}?`,
    message: `"${body.nombre.trim()}" sale ahora a ${recipients(n)}. Puedes cancelarlo mientras se envía, pero lo ya enviado no se puede retirar.`,
    confirmLabel: `Enviar a ${recipients(n)}`,
    cancelLabel: "Volver",
  }))) return;
  try {
    const rec = await ui.busy($("start"), api("/api/inbox/bulk", { method: "POST", body }));
    ui.toast(`${ui.plural(rec.total, "destinatario", "destinatarios")}. El avance se ve en vivo en la lista.`, { kind: "success", title: "Envío en cola" });
    $("nombre").value = "";
    $("texto").value = "";
    $("count").textContent = `0 / ${config.max_text}`;
  } catch (err) {
    const field = err.body && err.body.field;
    const target = field && (field.startsWith("destinatarios") ? $("phones") : $(field));
    if (target) target.setAttribute("aria-invalid", "true");
    ui.toast(errorText(err), { kind: "danger", title: "No se pudo crear el envío" });
  }
}

/** An agent's view: the campaigns' progress, no form (the server refuses anyway). */
function readOnly() {
  const form = $("bulk-form");
  for (const el of form.querySelectorAll("input, textarea, button")) el.disabled = true;
  form.querySelector(".card-body").prepend(ui.h("div", { class: "alert alert-info", id: "only-supervisor" }, ui.icon("info"),
    ui.h("div", ui.h("div", { class: "alert-title" }, "Solo un supervisor puede enviar"), "Los envíos masivos los crea y cancela un supervisor de tu empresa. Aquí ves su avance en vivo.")));
}

const session = requireSession();

async function main() {
  config = await getConfig();
  const me = await whoami(session);
  supervisor = (me.roles || []).includes("supervisor");
  const rv = connect(me, config);
  topbar(me, rv, "masivo");
  ui.hydrateIcons(document.body);
  const banner = $("offline");
  rv.on("state", (s, status) => {
    banner.hidden = s === "connected" || !status.everConnected;
    banner.textContent = "Sin conexión en vivo: el avance se actualizará al volver.";
  });
  if (config.simulator) $("sim-note").replaceChildren(ui.h("span", { class: "tag" }, "Simulador"), " no se envía nada de verdad");
  $("count").textContent = `0 / ${config.max_text}`;
  $("texto").addEventListener("input", (e) => { $("count").textContent = `${e.target.value.length} / ${config.max_text}`; });
  for (const r of document.querySelectorAll('input[name="dest"]')) r.addEventListener("change", recipientsLabel);
  $("phones").addEventListener("input", recipientsLabel);
  $("bulk-form").addEventListener("submit", submit);
  if (!supervisor) readOnly();
  const tenant = me.tenant;
  ui.bindStale($("campaigns"), rv);
  rv.live("inbox_bulk", { tenant }, { onChange: render, onError: (err) => ui.toast(errorText(err), { kind: "danger" }) });
  const convs = rv.live("inbox_conversation", { tenant }, {
    onChange: (rows) => {
      contacts = convs.total ?? rows.size; // all of them, also past the query's limit
      $("all-label").textContent = `Todos los contactos (${ui.fmtNumber(contacts)})`;
      recipientsLabel();
    },
  });
  rv.live("inbox_connector", { tenant }, {
    onChange: (rows) => {
      const c = rows.get(tenant);
      const warn = $("wa-warning");
      warn.replaceChildren(c && c.state !== "authenticated"
        ? ui.h("div", { class: "alert alert-warning" }, ui.icon("alert"), ui.h("div", ui.h("div", { class: "alert-title" }, "WhatsApp no está conectado"),
            "Los envíos quedan en espera y siguen solos cuando se vuelva a conectar (desde la bandeja)."))
        : "");
    },
  });
  window.__inboxReady = true;
}

if (session) main().catch((err) => ui.toast(`No se pudo cargar: ${err.message}`, { kind: "danger" }));
