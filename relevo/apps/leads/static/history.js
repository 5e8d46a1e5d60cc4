// A lead's detail drawer: its data, the time left before it returns to the
// GTR, and its history (every change: who, when, from, to, why) — kept
// current while open.

import * as ui from "/static/ui/ui.js";
import { api, deadline, EVENT_TEXT, leaseHolder, REASON_TEXT } from "./common.js";

const FIELD_TEXT = {
  asesor_id: "asesor",
  tipificacion: "tipificación",
  resultado_contacto: "contacto",
  proxima_accion: "próxima acción",
  notas: "notas",
  nombre: "nombre",
  telefono: "teléfono",
  documento: "documento",
  campana: "campaña",
  fuente: "fuente",
  callback_at: "volver a llamar",
};

function who(by, names) {
  if (!by || by === "system") return "Sistema";
  return names.get(by) || `usuario ${by}`;
}

function describeChanges(entry, ctx) {
  const changes = (entry.data && entry.data.changes) || {};
  const parts = [];
  for (const [field, value] of Object.entries(changes)) {
    if (!(field in FIELD_TEXT) || entry.event === "lead.created") continue;
    let shown = value;
    if (field === "asesor_id") shown = value ? who(value, ctx.names) : null;
    else if (field === "tipificacion") shown = ctx.tipificaciones[value] || value;
    else if (field === "resultado_contacto") shown = ctx.resultados[value] || value;
    else if (field === "proxima_accion") shown = ctx.acciones[value] || value;
    else if (field === "callback_at") shown = value ? ui.fmtDateTime(value) : null;
    if (shown === null || shown === undefined || shown === "") continue;
    parts.push(`${FIELD_TEXT[field]}: ${shown}`);
  }
  return parts.join(" · ");
}

/** Consecutive heartbeats of one open wizard become one line ("×12"). */
function collapse(entries) {
  const out = [];
  for (const e of entries) {
    const last = out[out.length - 1];
    if (last && e.event === "CLIENT_ACTIVITY" && last.event === "CLIENT_ACTIVITY" && last.by === e.by) {
      last.count = (last.count || 1) + 1;
      last.at = e.at;
      continue;
    }
    out.push({ ...e });
  }
  return out;
}

function timeline(entries, ctx) {
  if (!entries.length) return ui.emptyState({ icon: "clock", title: "Sin historial", small: true });
  const items = collapse(entries).reverse().map((e) => {
    const reason = e.reason ? REASON_TEXT[e.reason] || e.reason : "";
    const move = e.from !== e.to && e.to
      ? ui.h("span", { class: "row tl-move" }, e.from ? ui.chip(e.from) : null, e.from ? "→" : null, ui.chip(e.to))
      : null;
    return ui.h("li", { class: "tl-item", "data-event": e.event },
      ui.h("div", { class: "tl-head" },
        ui.h("span", { class: "tl-title" }, EVENT_TEXT[e.event] || e.event, e.count ? ` ×${e.count}` : ""),
        ui.h("time", { class: "tl-time", datetime: new Date(e.at).toISOString(), title: ui.fmtDateTime(e.at) }, ui.fmtDateTime(e.at))),
      ui.h("div", { class: "tl-body" },
        ui.h("span", { class: "muted" }, who(e.by, ctx.names)),
        move,
        reason ? ui.h("span", { class: "muted" }, `(${reason})`) : null),
      (() => {
        const text = describeChanges(e, ctx);
        return text ? ui.h("div", { class: "tl-changes" }, text) : null;
      })());
  });
  return ui.h("ol", { class: "timeline", "aria-label": "Historial del lead" }, items);
}

function details(row, ctx) {
  const holder = leaseHolder(row);
  const due = deadline(row, ctx.config);
  const when = (ms) => (ms ? ui.h("time", { datetime: new Date(ms).toISOString() }, `${ui.fmtDateTime(ms)} (${ui.timeAgo(ms)})`) : "—");
  const rows = [
    ["Estado", ui.h("span", { class: "row" }, ui.chip(row.state), holder ? ui.h("span", { class: "lock-note" }, ui.icon("lock"), `Wizard abierto por ${who(holder, ctx.names)}`) : null)],
    ["Teléfono", row.telefono ? ui.h("a", { href: `tel:${row.telefono}` }, row.telefono) : "—"],
    ["Documento", row.documento || "—"],
    ["Campaña", [row.campana || "—", row.fuente ? ui.h("span", { class: "muted" }, ` · ${row.fuente}`) : null]],
    ["Asesor", row.asesor_id ? who(row.asesor_id, ctx.names) : ui.h("span", { class: "muted" }, row.previous_asesor_id ? `Sin asignar (antes: ${who(row.previous_asesor_id, ctx.names)})` : "Sin asignar")],
    ["Derivado", when(row.derivado_at)],
    ["Abierto", when(row.opened_at)],
    ["Última actividad", when(row.last_activity)],
  ];
  if (due) rows.push(["Vuelve al GTR en", ui.h("span", { "data-countdown": String(due), "data-warn": "60" }, ui.countdown(due))]);
  if (row.resultado_contacto) rows.push(["Contacto", ctx.resultados[row.resultado_contacto] || row.resultado_contacto]);
  if (row.tipificacion) rows.push(["Tipificación", ctx.tipificaciones[row.tipificacion] || row.tipificacion]);
  if (row.proxima_accion) rows.push(["Próxima acción", ctx.acciones[row.proxima_accion] || row.proxima_accion]);
  if (row.notas) rows.push(["Notas", row.notas]);
  if (row.state === "agendado" && row.callback_at) rows.push(["Volver a llamar", when(row.callback_at)]);
  if (row.fecha_wizard_completado) rows.push(["Completado", when(row.fecha_wizard_completado)]);
  return ui.h("dl", { class: "dl" }, rows.flatMap(([k, v]) => [ui.h("dt", k), ui.h("dd", v)]));
}

/**
 * openHistory(row, ctx) → {id, update(row), close()}
 * ctx: {config, names: Map, tipificaciones, resultados, acciones, onAssign(row), onEdit(row), onClose()}
 */
export function openHistory(row, ctx) {
  let current = row;
  let entries = [];
  let pending = null;
  const detailBox = ui.h("div", { class: "lead-detail" });
  const historyBox = ui.h("div", { class: "stack" }, ui.h("span", { class: "skeleton skeleton-text" }), ui.h("span", { class: "skeleton skeleton-text" }));
  const assignBtn = ui.h("button", { type: "button", class: "btn btn-primary", onclick: () => ctx.onAssign(current) });
  const editBtn = ui.h("button", { type: "button", class: "btn", "data-action": "edit", onclick: () => ctx.onEdit(current) }, "Editar");
  const d = ui.drawer({
    name: "leads-history",
    title: `${row.nombre} · #${row.id}`,
    wide: true,
    body: [detailBox, ui.h("h3", { class: "section-title", style: { marginTop: "var(--s-5)" } }, ui.icon("clock"), "Historial"), historyBox],
    footer: [assignBtn, editBtn, ui.h("button", { type: "button", class: "btn", onclick: () => d.close() }, "Cerrar")],
    onClose: () => ctx.onClose(),
  });
  d.el.dataset.lead = row.id;

  const render = () => {
    detailBox.replaceChildren(details(current, ctx));
    const finished = current.state === "terminado";
    assignBtn.hidden = finished;
    assignBtn.replaceChildren(ui.icon("send"), current.asesor_id ? "Reasignar" : "Derivar");
  };
  const load = async () => {
    try {
      const res = await api(`/api/records/lead/${encodeURIComponent(current.id)}/history?limit=500`);
      entries = res.entries;
      historyBox.replaceChildren(timeline(entries, ctx));
    } catch (err) {
      historyBox.replaceChildren(ui.h("div", { class: "alert alert-danger" }, ui.icon("danger"), ui.h("div", `No se pudo cargar el historial: ${err.message}`)));
    }
  };
  render();
  load();
  return {
    id: row.id,
    el: d.el,
    update(next) {
      current = next;
      render();
      clearTimeout(pending); // a burst of changes reloads the history once
      pending = setTimeout(load, 150);
    },
    close: () => d.close(),
  };
}
