// The asesor's panel: only their own leads — a live query on asesor_id, so
// the server sends this page nothing about anyone else's. A lead that is
// reassigned, times out or is completed leaves the list at once, and the
// asesor is told why.

import * as ui from "/static/ui/ui.js";
import {
  ASESOR_NAV, api, connect, deadline, getConfig, labels, leaseHolder, offlineBanner, requireSession, tabId, topbar,
} from "./common.js";
import { attention } from "/static/ui/attention.js";
import { openEdit } from "./edit.js";
import { openWizard } from "./wizard.js";

const session = requireSession(["asesor"]);
if (session) main().catch((err) => ui.toast(err.message, { kind: "danger", title: "Error al cargar", timeout: 0 }));

async function main() {
  const me = session.user;
  const tab = tabId();
  const config = await getConfig();
  const rv = connect(session, config);
  topbar(session, rv, { nav: ASESOR_NAV("/leads/asesor") });
  const alerts = attention({ key: `leads.${me}`, what: "un lead derivado a ti (o la hora de volver a llamar)" });
  document.querySelector(".page-header .actions").prepend(alerts.button);
  offlineBanner(rv);
  ui.hydrateIcons();
  document.getElementById("subtitle").textContent =
    `Los leads que el GTR te derivó, en vivo. Sin actividad durante ${ui.humanDuration(config.timeout)}, un lead vuelve al GTR.`;
  rv.subscribe(`presencia:${me}`, () => {}); // tells the GTR this asesor is online

  const names = new Map();
  api("/api/leads/users").then(({ users }) => users.forEach((u) => names.set(u.id, u.nombre))).catch(() => {});
  const L = { tip: labels(config.tipificaciones), res: labels(config.resultados), acc: labels(config.proximas_acciones) };
  let wizard = null;
  let rows = new Map();
  let known = new Set(); // ids shown, to tell what vanished across a reload
  let selected = null;
  let completedHere = null;

  const openHere = (r) => wizard && !wizard.ended && wizard.id === r.id;
  const table = ui.table(document.getElementById("table"), {
    caption: "Leads asignados a mí",
    sort: (a, b) => (deadline(a, config) ?? Infinity) - (deadline(b, config) ?? Infinity),
    columns: [
      {
        label: "Cliente", primary: true, value: (r) => [r.nombre, r.telefono],
        render: (r) => ui.h("span", null, ui.h("span", { class: "cell-main" }, r.nombre), ui.h("span", { class: "cell-sub" }, r.telefono || "")),
      },
      {
        label: "Campaña", className: "hide-phone", value: (r) => [r.campana, r.fuente],
        render: (r) => ui.h("span", null, ui.h("span", { class: "cell-main-sm" }, r.campana || "—"), ui.h("span", { class: "cell-sub" }, r.fuente || "")),
      },
      {
        label: "Estado", value: (r) => [r.state, leaseHolder(r), openHere(r)],
        render: (r) => ui.h("span", { class: "state-cell" }, ui.chip(r.state),
          leaseHolder(r) && !openHere(r) ? ui.h("span", { class: "lock-note" }, ui.icon("lock"), "Abierto en otra pestaña") : null),
      },
      {
        label: "Vuelve al GTR en", className: "num nowrap", flash: false, value: (r) => [deadline(r, config), r.callback_at, r.state],
        render: (r) => {
          if (r.state === "agendado") return ui.h("span", { class: "callback-at", title: "Volver a llamar" }, ui.icon("clock"), ` Llamar ${ui.fmtDateTime(r.callback_at)}`);
          const due = deadline(r, config);
          return due ? ui.h("span", { "data-countdown": String(due), "data-warn": String(Math.min(60, config.timeout / 3)), class: "timer" }, ui.countdown(due)) : "—";
        },
      },
      {
        label: "", className: "actions-cell", value: (r) => [r.state, leaseHolder(r), openHere(r)],
        render: (r) => ui.h("span", { class: "row-actions" },
          r.state === "agendado" ? null : ui.h("button", {
            type: "button", class: ["btn btn-sm", !leaseHolder(r) || openHere(r) ? "btn-primary" : null], "data-action": "gestionar",
            onclick: () => gestionar(r.id),
          }, openHere(r) ? "Continuar" : leaseHolder(r) ? "Ver quién lo tiene" : r.state === "en_gestion" ? "Retomar" : "Gestionar"),
          ui.h("button", {
            type: "button", class: "btn btn-sm btn-ghost", "data-action": "edit", "aria-label": `Editar ${r.nombre}`,
            onclick: (e) => { e.stopPropagation(); openEdit(rows.get(r.id) || r, { names }); },
          }, "Editar")),
      },
    ],
    rowAttrs: (r) => ({ "data-state": r.state, "data-id": r.id }),
    onRowClick: (r) => gestionar(r.id),
    empty: { icon: "inbox", title: "No tienes leads por gestionar", text: "Cuando el GTR te derive uno aparecerá aquí al instante." },
  });
  table.loading(3);
  table.tbody.addEventListener("focusin", (e) => {
    const tr = e.target.closest("tr[data-id]");
    if (tr) selected = tr.dataset.id;
  });

  function summary() {
    let derivados = 0;
    let gestion = 0;
    let next = null;
    for (const r of rows.values()) {
      if (r.state === "derivado") derivados++;
      if (r.state === "en_gestion") gestion++;
      const due = deadline(r, config);
      if (due && (next === null || due < next)) next = due;
    }
    document.getElementById("n-derivado").textContent = String(derivados);
    document.getElementById("n-gestion").textContent = String(gestion);
    const nd = document.getElementById("next-due");
    nd.replaceChildren(next ? ui.h("span", { "data-countdown": String(next), "data-warn": "60", class: "timer" }, ui.countdown(next)) : "—");
    ui.setBadge(document.getElementById("count"), rows.size);
    alerts.count(derivados);
    document.getElementById("meta").textContent = rows.size ? "Ordenados por vencimiento" : "";
  }

  function why(change) {
    const d = change.delta || {};
    const r = change.row;
    if (d.transition === "timeout") return `«${r.nombre}» volvió al GTR: ${ui.humanDuration(config.timeout)} sin actividad.`;
    if (d.transition === "assign") return `«${r.nombre}» fue reasignado a otro asesor.`;
    if (d.transition === "complete") return `«${r.nombre}» se completó en otra pestaña.`;
    return `«${r.nombre}» ya no está asignado a ti.`;
  }

  function onChange(all, change) {
    rows = all;
    if (change.type === "snapshot") {
      const now = new Set(all.keys());
      for (const id of known) {
        if (!now.has(id)) {
          ui.toast("Un lead ya no está asignado a ti (cambió mientras estabas desconectado).", { kind: "warning", title: "Lista actualizada" });
          if (wizard && wizard.id === id) wizard.gone("El lead ya no está asignado a ti.");
          break;
        }
      }
      known = now;
      table.set([...all.values()]);
      if (wizard && !wizard.ended && all.has(wizard.id)) wizard.update(all.get(wizard.id));
      summary();
      return;
    }
    known = new Set(all.keys());
    if (change.type === "remove") {
      table.remove(change.id);
      const own = completedHere === change.id && change.delta?.transition === "complete";
      if (!own) {
        const text = why(change);
        if (wizard && wizard.id === change.id && !wizard.ended) wizard.gone(text);
        else ui.toast(text, { kind: change.delta?.transition === "complete" ? "info" : "warning", title: "Lead fuera de tu lista", timeout: 9000 });
        ui.announce(text, { assertive: true });
      }
    } else {
      table.upsert(change.row, { flash: true });
      const r = change.row;
      if (change.type === "insert") {
        ui.toast(`${r.nombre} · ${r.telefono || ""}`, { kind: "info", title: "Nuevo lead derivado a ti" });
        ui.announce(`Nuevo lead derivado: ${r.nombre}`);
        alerts.notify("Nuevo lead derivado", `${r.nombre} · ${r.telefono || ""}. Tienes ${ui.humanDuration(config.timeout)} para gestionarlo.`, { tag: `lead-${r.id}` });
      } else if (change.delta?.transition === "callback") {
        ui.toast(`${r.nombre} · ${r.telefono || ""}`, { kind: "info", title: "Hora de volver a llamar" });
        ui.announce(`Hora de volver a llamar a ${r.nombre}`);
        alerts.notify("Hora de volver a llamar", `${r.nombre} · ${r.telefono || ""}`, { tag: `lead-${r.id}` });
      }
      if (wizard && wizard.id === change.id && !wizard.ended) wizard.update(change.row);
    }
    summary();
  }

  const live = rv.live("lead", { asesor_id: me }, { onChange, onError: (err) => ui.toast(err.message, { kind: "danger", title: "No se pudo cargar tu lista", timeout: 0 }) });

  async function gestionar(id) {
    const row = rows.get(id);
    if (!row || row.state === "agendado") return;
    if (wizard && !wizard.ended) {
      if (wizard.id === id) return; // already open here
      ui.toast("Cierra el wizard abierto antes de gestionar otro lead.", { kind: "neutral" });
      return;
    }
    const w = await openWizard(row, {
      config, tab, names, labels: L,
      onEnd: (reason) => {
        if (reason === "completed") completedHere = id;
        const r = rows.get(id);
        if (r) table.upsert({ ...r }, { flash: false });
      },
    });
    if (w) {
      wizard = w;
      const r = rows.get(id);
      if (r) table.upsert({ ...r }, { flash: false });
    }
  }

  document.getElementById("btn-help").addEventListener("click", () => ui.showHelp());
  const visibleIds = () => [...table.tbody.querySelectorAll("tr[data-id]")].map((tr) => tr.dataset.id);
  const move = (step) => {
    const ids = visibleIds();
    if (!ids.length) return;
    const i = ids.indexOf(selected);
    const id = ids[Math.max(0, Math.min(ids.length - 1, i < 0 ? 0 : i + step))];
    table.row(id)?.focus();
  };
  ui.shortcuts({
    g: { run: () => { const id = selected && rows.has(selected) ? selected : visibleIds()[0]; if (id) gestionar(id); }, label: "Gestionar el lead seleccionado (o el que vence antes)" },
    j: { run: () => move(1), label: "Lead siguiente" },
    k: { run: () => move(-1), label: "Lead anterior" },
  });
  ui.tickTimes();
  await live.ready;
  window.__leadsReady = true;
}
