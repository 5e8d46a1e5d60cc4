// The GTR dashboard: every lead, live. One live collection of the `lead`
// kind (the records layer's snapshot + deltas on the `gtr` channel) feeds
// the counters, the table, the per-asesor load and the open drawer; nothing
// here listens for a particular event name, so no event can be missed.

import * as ui from "/static/ui/ui.js";
import {
  connect, deadline, errorText, getConfig, labels, leaseHolder, offlineBanner, requireSession, topbar,
} from "./common.js";
import { openAssign } from "./assign.js";
import { bulkTools, exportCsv } from "./bulk.js";
import { openEdit } from "./edit.js";
import { openHistory } from "./history.js";
import { openImport, openNewLead } from "./intake.js";
import { Presence } from "/static/ui/presence.js";
import { renderTeam, teamSummary } from "./team.js";

const STATES = ["nuevo", "derivado", "en_gestion", "terminado", "no_gestionado", "agendado"];
const STAT_ICON = { nuevo: "inbox", derivado: "send", en_gestion: "users", terminado: "check", no_gestionado: "alert", agendado: "clock" };
const STAT_FOOT = {
  nuevo: "sin asignar",
  derivado: "esperan al asesor",
  en_gestion: "wizard abierto o en curso",
  terminado: "gestión completada",
  no_gestionado: "volvieron al GTR",
  agendado: "volver a llamar",
};
const PAGE = 200;

const session = requireSession(["gtr", "admin"]);
if (session) main().catch((err) => ui.toast(err.message, { kind: "danger", title: "Error al cargar", timeout: 0 }));

function fold(text) {
  return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
}

async function main() {
  const config = await getConfig();
  const rv = connect(session, config);
  const nav = [{ label: "Bandeja GTR", href: "/leads/gtr", current: true, icon: "inbox" }];
  if (session.roles.includes("admin")) nav.push({ label: "Servidor", href: "/static/admin.html", icon: "gauge" });
  const shell = topbar(session, rv, { nav });
  offlineBanner(rv);
  ui.hydrateIcons();
  document.getElementById("subtitle").textContent =
    `Todos los leads, en vivo. Un lead derivado vuelve al GTR tras ${ui.humanDuration(config.timeout)} sin actividad del asesor.`;

  const names = new Map(); // user id -> nombre
  const users = new Map(); // user id -> directory row
  const filters = { status: "", asesor: "", campana: "", q: "", sort: "recent" };
  const changed = new Set();
  const listeners = new Set(); // open dialogs following the data
  let rows = new Map(); // the live collection's rows
  let limit = PAGE;
  let selected = null;
  let detail = null; // the open drawer
  let scheduled = false;
  let loaded = false;
  const tip = labels(config.tipificaciones);
  const res = labels(config.resultados);
  const acc = labels(config.proximas_acciones);

  const availability = new Presence(rv, (id) => `presencia:${id}`, () => schedule());

  // -- the table ---------------------------------------------------------------------

  const asesorName = (id) => (id ? names.get(id) || `Asesor ${id}` : "");
  let lastVisible = [];
  const bulk = bulkTools({
    bar: document.getElementById("bulk-bar"), names,
    asesores: () => asesores(), rows: () => rows, visible: () => lastVisible, onChange: () => schedule(),
  });
  const table = ui.table(document.getElementById("table"), {
    caption: "Leads",
    columns: [
      bulk.column,
      {
        label: "Cliente", primary: true, value: (r) => [r.id, r.nombre, r.telefono, r.documento],
        render: (r) => ui.h("span", null, ui.h("span", { class: "cell-main" }, r.nombre),
          ui.h("span", { class: "cell-sub" }, [`#${r.id}`, r.telefono, r.documento].filter(Boolean).join(" · "))),
      },
      {
        label: "Campaña", className: "hide-phone", value: (r) => [r.campana, r.fuente],
        render: (r) => ui.h("span", null, ui.h("span", { class: "cell-main-sm" }, r.campana || "—"), ui.h("span", { class: "cell-sub" }, r.fuente || "")),
      },
      {
        label: "Estado", value: (r) => [r.state, leaseHolder(r)],
        render: (r) => ui.h("span", { class: "state-cell" }, ui.chip(r.state),
          leaseHolder(r) ? ui.h("span", { class: "lock-dot", title: `Wizard abierto por ${asesorName(leaseHolder(r))}` }, ui.icon("lock", { label: "Wizard abierto" })) : null),
      },
      {
        label: "Asesor", flash: false,
        value: (r) => [r.asesor_id, r.previous_asesor_id, r.state, names.get(r.asesor_id), names.get(r.previous_asesor_id), r.last_activity, r.updated_at],
        render: (r) => {
          const ago = (label, t) => ui.h("span", { class: "cell-sub" }, `${label} `,
            ui.h("time", { "data-ago": "", datetime: new Date(t).toISOString(), title: ui.fmtDateTime(t) }, ui.timeAgo(t)));
          const main = (text, muted = false) => ui.h("span", { class: ["cell-main-sm", muted && "muted"] }, text);
          if (r.asesor_id) return ui.h("span", null, main(asesorName(r.asesor_id)), ago("actividad", r.last_activity || r.created_at));
          if (r.state === "terminado") return ui.h("span", null, main(asesorName(r.previous_asesor_id) || "—", true), ago("terminó", r.fecha_wizard_completado || r.updated_at));
          if (r.state === "no_gestionado") {
            return ui.h("span", null, main(r.previous_asesor_id ? `Sin asignar · antes ${asesorName(r.previous_asesor_id)}` : "Sin asignar", true), ago("volvió", r.updated_at));
          }
          return ui.h("span", null, main("Sin asignar", true), ago("creado", r.created_at));
        },
      },
      {
        label: "Vence en", className: "num nowrap", flash: false,
        value: (r) => [deadline(r, config), r.state === "agendado" && r.callback_at],
        render: (r) => {
          if (r.state === "agendado") return ui.h("span", { class: "callback-at muted", title: "Volver a llamar" }, ui.icon("clock"), ` ${ui.fmtDateTime(r.callback_at)}`);
          const due = deadline(r, config);
          return due ? ui.h("span", { "data-countdown": String(due), "data-warn": String(Math.min(60, config.timeout / 3)), class: "timer" }, ui.countdown(due)) : ui.h("span", { class: "muted" }, "—");
        },
      },
      {
        label: "", className: "actions-cell", value: (r) => [r.state, !!r.asesor_id],
        render: (r) => ui.h("span", { class: "row-actions" },
          r.state === "terminado" ? null : ui.h("button", {
            type: "button", class: ["btn btn-sm", r.state === "nuevo" || r.state === "no_gestionado" ? "btn-primary" : null],
            "data-action": "assign", onclick: () => assign(r.id),
          }, r.asesor_id ? "Reasignar" : "Derivar"),
          ui.h("button", { type: "button", class: "btn btn-sm btn-ghost btn-icon", title: "Historial", "aria-label": `Historial de ${r.nombre}`, onclick: () => openDetail(r.id) }, ui.icon("clock"))),
      },
    ],
    rowAttrs: (r) => ({ "data-state": r.state, "data-id": r.id, "aria-selected": r.id === selected ? "true" : null }),
    onRowClick: (r) => openDetail(r.id),
    empty: { icon: "inbox", title: "No hay leads", text: "Importa un CSV o crea uno: aparecerán aquí al instante." },
  });
  table.loading(8);
  table.tbody.addEventListener("focusin", (e) => {
    const tr = e.target.closest("tr[data-id]");
    if (tr) select(tr.dataset.id);
  });

  function select(id) {
    selected = id;
    table.select(id);
  }

  // -- filters -----------------------------------------------------------------------

  const stats = document.getElementById("stats");
  const statButtons = new Map();
  for (const s of STATES) {
    const b = ui.h("button", { type: "button", class: "stat stat-button", "data-status": s, "aria-pressed": "false", onclick: () => setStatus(filters.status === s ? "" : s) },
      ui.h("span", { class: "stat-label" }, ui.icon(STAT_ICON[s]), ui.statusLabel(s), ui.h("kbd", String(STATES.indexOf(s) + 1))),
      ui.h("span", { class: "stat-value" }, "0"),
      ui.h("span", { class: "stat-foot" }, STAT_FOOT[s]));
    statButtons.set(s, b);
    stats.append(b);
  }
  const q = document.getElementById("q");
  const fAsesor = document.getElementById("f-asesor");
  const fCampana = document.getElementById("f-campana");
  const fSort = document.getElementById("f-sort");
  const fClear = document.getElementById("f-clear");
  let searchTimer = null;
  q.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => { filters.q = fold(q.value.trim()); limit = PAGE; schedule(); }, 120);
  });
  fAsesor.addEventListener("change", () => { filters.asesor = fAsesor.value; limit = PAGE; schedule(); });
  fCampana.addEventListener("change", () => { filters.campana = fCampana.value; limit = PAGE; schedule(); });
  fSort.addEventListener("change", () => { filters.sort = fSort.value; schedule(); });
  fClear.addEventListener("click", () => {
    Object.assign(filters, { status: "", asesor: "", campana: "", q: "" });
    q.value = fAsesor.value = fCampana.value = "";
    limit = PAGE;
    schedule();
  });
  document.getElementById("more").addEventListener("click", () => { limit += PAGE; schedule(); });

  function setStatus(s) {
    filters.status = s;
    limit = PAGE;
    schedule();
  }

  const searchKeys = new WeakMap();
  const keyOf = (r) => {
    let k = searchKeys.get(r);
    if (k === undefined) {
      k = fold(`${r.nombre} ${r.telefono || ""} ${r.documento || ""} #${r.id} ${r.campana || ""}`);
      searchKeys.set(r, k);
    }
    return k;
  };
  const matches = (r) =>
    (!filters.status || r.state === filters.status) &&
    (!filters.asesor || (filters.asesor === "-" ? !r.asesor_id : r.asesor_id === filters.asesor)) &&
    (!filters.campana || r.campana === filters.campana) &&
    (!filters.q || keyOf(r).includes(filters.q));
  const SORTS = {
    recent: (a, b) => Number(b.id) - Number(a.id),
    due: (a, b) => (deadline(a, config) ?? Infinity) - (deadline(b, config) ?? Infinity) || Number(b.id) - Number(a.id),
    activity: (a, b) => (b.last_activity || b.created_at) - (a.last_activity || a.created_at),
  };

  // -- the side panel: asesores, availability, load ---------------------------------------

  const teamList = document.getElementById("asesores");
  const teamMeta = document.getElementById("asesores-meta");
  const asesores = () => teamSummary(users, rows, availability);
  const pickAsesor = (id) => {
    filters.asesor = filters.asesor === id ? "" : id;
    fAsesor.value = filters.asesor;
    limit = PAGE;
    schedule();
  };

  function renderAsesorSelect() {
    const keep = fAsesor.value;
    const asesorOptions = [...users.values()].filter((u) => u.rol === "asesor").sort((a, b) => a.nombre.localeCompare(b.nombre, "es"));
    fAsesor.replaceChildren(ui.h("option", { value: "" }, "Todos los asesores"), ui.h("option", { value: "-" }, "Sin asignar"),
      ...asesorOptions.map((u) => ui.h("option", { value: u.id }, u.nombre)));
    fAsesor.value = keep;
  }

  function renderCampanas() {
    const campanas = new Set();
    for (const r of rows.values()) if (r.campana) campanas.add(r.campana);
    const current = [...fCampana.options].slice(1).map((o) => o.value);
    const sorted = [...campanas].sort((a, b) => a.localeCompare(b, "es"));
    if (sorted.join("\n") !== current.join("\n")) {
      const keepC = fCampana.value;
      fCampana.replaceChildren(ui.h("option", { value: "" }, "Todas las campañas"), ...sorted.map((c) => ui.h("option", { value: c }, c)));
      fCampana.value = keepC;
    }
  }

  // -- rendering (coalesced to one pass per frame) ------------------------------------------

  function schedule() {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(render);
  }

  let lastNotify = 0;
  function render() {
    scheduled = false;
    if (!loaded) return;
    const counts = Object.fromEntries(STATES.map((s) => [s, 0]));
    const visible = [];
    for (const r of rows.values()) {
      counts[r.state] = (counts[r.state] || 0) + 1;
      if (matches(r)) visible.push(r);
    }
    visible.sort(SORTS[filters.sort] || SORTS.recent);
    lastVisible = visible;
    const shown = visible.slice(0, limit);
    table.set(shown);
    for (const id of changed) {
      const tr = table.row(id);
      if (tr) ui.flash(tr);
    }
    for (const [s, b] of statButtons) {
      b.querySelector(".stat-value").textContent = ui.fmtNumber(counts[s]);
      b.setAttribute("aria-pressed", String(filters.status === s));
    }
    ui.setBadge(document.getElementById("count"), rows.size);
    shell.setCount("/leads/gtr", counts.nuevo + counts.no_gestionado);
    const filtered = filters.status || filters.asesor || filters.campana || filters.q;
    fClear.hidden = !filtered;
    document.getElementById("shown").textContent = filtered
      ? `${ui.fmtNumber(visible.length)} de ${ui.fmtNumber(rows.size)}`
      : `${ui.fmtNumber(rows.size)} leads`;
    const moreBar = document.getElementById("more-bar");
    moreBar.hidden = visible.length <= shown.length;
    document.getElementById("more-text").textContent = `Mostrando ${ui.fmtNumber(shown.length)} de ${ui.fmtNumber(visible.length)}`;
    renderTeam(teamList, teamMeta, asesores(), { selected: filters.asesor, onPick: pickAsesor });
    renderCampanas();
    if (detail && changed.has(detail.id) && rows.get(detail.id)) detail.update(rows.get(detail.id));
    changed.clear();
    const now = Date.now();
    if (listeners.size && now - lastNotify > 250) {
      lastNotify = now;
      for (const fn of listeners) fn();
    } else if (listeners.size) {
      setTimeout(schedule, 260);
    }
  }

  // -- what the GTR hears ------------------------------------------------------------------

  const heard = [];
  let heardTimer = null;
  function hear(text) {
    heard.push(text);
    if (heardTimer) return;
    heardTimer = setTimeout(() => {
      ui.announce(heard.length === 1 ? heard[0] : `${heard.length} cambios en la bandeja; el último: ${heard[heard.length - 1]}`);
      heard.length = 0;
      heardTimer = null;
    }, 1200);
  }

  let returned = [];
  let returnedTimer = null;
  function returnedToGtr(row, delta) {
    returned.push({ row, by: delta.record?.previous_asesor_id });
    if (returnedTimer) return;
    returnedTimer = setTimeout(() => {
      if (returned.length === 1) {
        const { row: r, by } = returned[0];
        ui.toast(`${r.nombre} volvió sin gestionar${by ? ` (${asesorName(by)})` : ""}.`, {
          kind: "warning", title: `Lead #${r.id}: Sin gestionar`,
          action: { label: "Reasignar", run: () => assign(r.id) },
        });
      } else {
        ui.toast(`${returned.length} leads volvieron sin gestionar.`, { kind: "warning", title: "Sin gestionar" });
      }
      returned = [];
      returnedTimer = null;
    }, 400);
  }

  function onLeads(all, change) {
    rows = all;
    if (change.type === "snapshot") {
      loaded = true;
      changed.clear();
      schedule();
      return;
    }
    changed.add(change.id);
    const r = change.row;
    const d = change.delta || {};
    if (change.type === "insert" && d.op === "upsert" && d.from === null) hear(`Nuevo lead: ${r.nombre}`);
    else if (change.previous && change.previous.state !== r.state) {
      const who = r.asesor_id ? ` (${asesorName(r.asesor_id)})` : "";
      hear(`${r.nombre} pasó a ${ui.statusLabel(r.state)}${who}`);
      if (r.state === "no_gestionado") returnedToGtr(r, d);
    } else if (d.transition === "assign") hear(`${r.nombre} reasignado a ${asesorName(r.asesor_id)}`);
    schedule();
  }

  // The newest max_leads: after months of leads the board still opens on today's.
  const live = rv.live("lead", {}, {
    limit: config.max_leads,
    newest: true,
    onChange: onLeads,
    onError: (err) => ui.toast(errorText(err), { kind: "danger", title: "No se pudo cargar la bandeja", timeout: 0 }),
  });
  rv.live("leads_user", {}, {
    onChange: (all) => {
      users.clear();
      names.clear();
      for (const u of all.values()) {
        users.set(u.id, u);
        names.set(u.id, u.nombre);
      }
      availability.track([...users.values()].filter((u) => u.rol === "asesor").map((u) => u.id));
      renderAsesorSelect();
      schedule();
    },
  });
  ui.tickTimes();

  // -- actions -------------------------------------------------------------------------

  async function assign(id) {
    const row = rows.get(id);
    if (!row) return;
    if (row.state === "terminado") {
      ui.toast("Un lead terminado no se puede derivar.", { kind: "neutral" });
      return;
    }
    select(id);
    const follow = (fn) => { listeners.add(fn); return () => listeners.delete(fn); };
    const rec = await openAssign(row, { asesores, names, subscribe: follow, current: () => rows.get(id) });
    if (rec) {
      ui.toast(`${rec.nombre} → ${asesorName(rec.asesor_id)}.`, { kind: "success", title: row.asesor_id ? "Lead reasignado" : "Lead derivado" });
      table.row(id)?.focus();
    }
  }

  function openDetail(id) {
    const row = rows.get(id);
    if (!row) return;
    select(id);
    if (detail) detail.close();
    detail = openHistory(row, {
      config, names, tipificaciones: tip, resultados: res, acciones: acc,
      onAssign: (r) => assign(r.id),
      onEdit: (r) => openEdit(rows.get(r.id) || r, { names }),
      onClose: () => { detail = null; },
    });
  }

  function move(step) {
    const trs = [...table.tbody.querySelectorAll("tr[data-id]:not([hidden])")];
    if (!trs.length) return;
    const i = trs.findIndex((tr) => tr.dataset.id === selected);
    const next = trs[Math.max(0, Math.min(trs.length - 1, i < 0 ? 0 : i + step))];
    next.focus();
    select(next.dataset.id);
  }

  const needSelection = (fn) => () => (selected && rows.has(selected) ? fn(selected) : ui.toast("Selecciona un lead (j / k o un clic).", { kind: "neutral" }));
  document.getElementById("btn-import").addEventListener("click", () => openImport());
  const btnExport = document.getElementById("btn-export");
  btnExport.addEventListener("click", () => exportCsv({ ...filters, qText: q.value.trim() }, btnExport));
  document.getElementById("pick-visible").addEventListener("click", () => bulk.selectVisible());
  document.getElementById("btn-new").addEventListener("click", async () => {
    const rec = await openNewLead();
    if (rec) ui.toast(`${rec.nombre} creado como Nuevo.`, { kind: "success" });
  });
  document.getElementById("btn-help").addEventListener("click", () => ui.showHelp());
  const keys = {
    "/": { run: ui.focusSearch("#q"), label: "Buscar" },
    n: { run: () => document.getElementById("btn-new").click(), label: "Nuevo lead" },
    i: { run: () => openImport(), label: "Importar CSV" },
    j: { run: () => move(1), label: "Lead siguiente" },
    k: { run: () => move(-1), label: "Lead anterior" },
    a: { run: needSelection(assign), label: "Derivar / reasignar el lead seleccionado" },
    h: { run: needSelection(openDetail), label: "Historial del lead seleccionado" },
    e: { run: needSelection((id) => openEdit(rows.get(id), { names })), label: "Editar el lead seleccionado" },
    x: { run: needSelection((id) => bulk.toggle(id)), label: "Marcar / desmarcar el lead seleccionado (derivar varios)" },
    0: { run: () => setStatus(""), label: "Todos los estados" },
  };
  STATES.forEach((s, i) => { keys[String(i + 1)] = { run: () => setStatus(filters.status === s ? "" : s), label: `Filtrar: ${ui.statusLabel(s)}` }; });
  ui.shortcuts(keys);

  await live.ready;
  window.__leadsReady = true;
}
