// The dispatcher's screen: every vendor's plantilla of the day in one dense
// table, progress per vendor, filters, and D ticks. The collections are live
// queries on despacho:cargue: a V ticked on a phone shows here at once (with
// who ticked it), the row flashes, and screen readers hear it. Each vendor's
// card says whether he is online (vendedor:<id> presence) and whether his day
// is closed; quantities (loaded, returned, why) are edited per row. The
// sheet prints (a print stylesheet) and exports as CSV.

import * as ui from "/static/ui/ui.js";
import { Presence } from "/static/ui/presence.js";
import { editQuantities, quantityText } from "./cantidades.js";
import { closedText, isClosed, vendorFoot } from "./cierre.js";
import { api, byOrder, connect, dayLabel, errorText, getConfig, NAV, requireSession, token, topbar } from "./common.js";

const SCREEN = "despacho";
const $ = (id) => document.getElementById(id);
const state = { vendors: new Map(), items: new Map(), cierres: new Map(), vendor: "", status: "", search: "", live: null, liveCierre: null, online: null };

const vendorName = (id) => state.vendors.get(id)?.nombre || id;
const time = (ms) => (ms ? ui.fmtTime(ms) : "");
const closedFor = (vid) => isClosed(state.cierres.get(vid));
const who = (name, by, at) => (at ? `${name || by || "?"} · ${time(at)}` : "");

// -- the table ----------------------------------------------------------------------------

function vTick(row) {
  return ui.h("span", {
    class: ["cg-mini", "cg-mini-v", row.v && "is-on"],
    role: "img",
    "aria-label": row.v ? `V marcado por ${who(row.v_nombre, row.v_by, row.v_at)}` : "V sin marcar",
    title: row.v ? `${row.v_nombre || row.v_by} marcó V a las ${time(row.v_at)}` : "El vendedor aún no marca V",
  }, "V");
}

function dTick(row) {
  const btn = ui.h("button", {
    type: "button",
    class: "tick tick-sm cg-d",
    "aria-pressed": String(Boolean(row.d)),
    "aria-label": `D ${row.producto} de ${vendorName(row.vendedor_id)}: ${row.d ? "marcado" : "sin marcar"}`,
    title: closedFor(row.vendedor_id) ? "Cargue cerrado" : row.v ? (row.d ? "Desmarcar D" : "Marcar D (despachado)") : "Espera la V del vendedor",
    disabled: !row.v || closedFor(row.vendedor_id),
    onclick: () => setD(row.id, !row.d, btn),
  }, "D");
  return btn;
}

async function setD(id, value, btn) {
  // The button is disabled while saving and rebuilt by the live update: the
  // keyboard's place goes back to the row's new D, not to <body>.
  const hadFocus = document.activeElement === btn;
  if (hadFocus) state.refocus = id;
  try {
    await ui.busy(btn, api(`/api/cargue/items/${encodeURIComponent(id)}/check`, { method: "POST", body: { check: "d", value }, token: token(SCREEN) }));
  } catch (err) {
    ui.toast(errorText(err), { kind: "danger", title: "No se guardó la D" });
  }
  if (hadFocus) keepFocus(id);
}

/** Focus the D of row `id` if the focus was lost (to <body> or a removed button). */
function keepFocus(id) {
  const lost = !document.activeElement || document.activeElement === document.body || !document.activeElement.isConnected;
  const el = table.row(id)?.querySelector("button.cg-d");
  if (lost && el && !el.disabled) el.focus();
}

function quantities(row) {
  const text = quantityText(row);
  const btn = ui.h("button", {
    type: "button", class: "btn btn-ghost btn-sm cg-qty-edit",
    "aria-label": `${text || "Sin novedad"}: cargado y devuelto de ${row.producto} (${vendorName(row.vendedor_id)})`,
    title: closedFor(row.vendedor_id) ? "Cargue cerrado" : "Registrar lo cargado y lo devuelto",
    disabled: closedFor(row.vendedor_id),
    onclick: () => editQuantities(row, { token: token(SCREEN), vendorName: vendorName(row.vendedor_id) }),
  }, text ? ui.h("span", { class: "cg-diff" }, text) : ui.h("span", { class: "muted" }, "Sin novedad"));
  return ui.h("div", { class: "cg-qty-cell" }, btn, row.motivo && text ? ui.h("div", { class: "cell-sub cg-motivo" }, row.motivo) : null);
}

function whoTicked(r) {
  const v = r.v_at ? ui.h("div", { class: "cg-who" }, ui.h("b", "V "), who(r.v_nombre, r.v_by, r.v_at)) : null;
  const d = r.d_at ? ui.h("div", { class: "cg-who" }, ui.h("b", "D "), who(r.d_nombre, r.d_by, r.d_at)) : null;
  return v || d ? [v, d] : "—";
}

const table = ui.table($("table"), {
  caption: "Productos de todas las plantillas",
  compact: true,
  sort: (a, b) => String(a.vendedor_id).localeCompare(String(b.vendedor_id)) || byOrder(a, b),
  rowAttrs: (r) => ({ "data-state": r.state, "data-vendor": r.vendedor_id }),
  columns: [
    { key: "vendedor_id", label: "Vendedor", value: (r) => `${r.vendedor_id}|${vendorName(r.vendedor_id)}`,
      render: (r) => ui.h("span", { class: "cg-vendor-cell" }, ui.h("span", { class: "avatar avatar-sm", "aria-hidden": "true" }, ui.initials(vendorName(r.vendedor_id))), vendorName(r.vendedor_id)) },
    { key: "producto", label: "Producto", primary: true, value: (r) => `${r.producto}|${r.codigo}`,
      render: (r) => ui.h("div", ui.h("div", { class: "cell-main" }, r.producto), ui.h("div", { class: "cell-sub mono" }, r.codigo || "")) },
    { key: "cantidad", label: "Cant.", className: "num", value: (r) => `${r.cantidad} ${r.unidad}`,
      render: (r) => ui.h("span", ui.h("b", ui.fmtNumber(r.cantidad ?? 0)), " ", ui.h("span", { class: "muted small" }, r.unidad || "")) },
    { label: "Cargado / devuelto", className: "cg-col-qty", value: (r) => `${r.cargada}|${r.devuelta}|${r.motivo}|${closedFor(r.vendedor_id)}`, render: quantities },
    { label: "V", className: "cg-col-tick", value: (r) => `${r.v}|${r.v_at}|${r.v_nombre}`, render: vTick },
    { label: "D", className: "cg-col-tick", value: (r) => `${r.v}|${r.d}|${closedFor(r.vendedor_id)}`, render: dTick },
    { key: "state", label: "Estado", render: (r) => ui.chip(r.state) },
    { label: "Quién", className: "muted nowrap cg-col-who", flash: false, value: (r) => `${r.v_at}|${r.d_at}|${r.v_nombre}|${r.d_nombre}`, render: whoTicked },
  ],
  empty: { icon: "truck", title: "Sin plantillas para esta fecha", text: "Las plantillas cargadas aparecen aquí al instante." },
});
table.loading(8);

function applyFilter() {
  const q = state.search.trim().toLowerCase();
  const active = state.vendor || state.status || q;
  table.filter(active ? (r) =>
    (!state.vendor || r.vendedor_id === state.vendor)
    && (!state.status || r.state === state.status)
    && (!q || `${r.producto} ${r.codigo || ""} ${vendorName(r.vendedor_id)}`.toLowerCase().includes(q)) : null);
  const shown = table.rows().filter((r) => !table.row(r.id)?.hidden).length;
  $("meta").textContent = active ? `${shown} de ${table.size} filas` : `${table.size} filas`;
}

// -- vendors and progress -------------------------------------------------------------------

function progressOf(id) {
  const rows = [...state.items.values()].filter((r) => r.vendedor_id === id);
  return { total: rows.length, v: rows.filter((r) => r.v).length, d: rows.filter((r) => r.d).length };
}

function bar(value, total, kind, label) {
  const pct = total ? (100 * value) / total : 0;
  return ui.h("div", { class: "cg-bar" },
    ui.h("span", { class: "cg-bar-label" }, label),
    ui.h("div", { class: ["progress", kind], role: "progressbar", "aria-label": label, "aria-valuemin": "0", "aria-valuemax": String(total), "aria-valuenow": String(value) },
      ui.h("span", { style: { "--value": `${pct}%` } })),
    ui.h("span", { class: "cg-bar-num num" }, `${value}/${total}`));
}

function vendorStatus(p) {
  if (!p.total) return ui.chip("sin_plantilla", { label: "Sin plantilla", kind: "neutral" });
  if (p.d === p.total) return ui.chip("despachado");
  if (p.v === p.total) return ui.chip("listo", { label: "Listo para despachar", kind: "warning", live: true });
  return ui.chip("cargando", { label: "Verificando", kind: "info" });
}

function renderVendors() {
  const ids = [...new Set([...state.vendors.keys(), ...[...state.items.values()].map((r) => r.vendedor_id)])].sort();
  state.online?.track(ids);
  const admin = session.roles.includes("admin");
  $("vendors").replaceChildren(...ids.map((id, i) => {
    const p = progressOf(id);
    const v = state.vendors.get(id) || {};
    const cierre = state.cierres.get(id);
    return ui.h("div", { class: ["card", "cg-vendor-box", isClosed(cierre) && "is-closed"], "data-vendor": id },
      ui.h("button", {
        type: "button", class: "cg-vendor-card", "data-vendor": id, "aria-pressed": String(state.vendor === id),
        title: i < 9 ? `Filtrar por ${vendorName(id)} (tecla ${i + 1})` : `Filtrar por ${vendorName(id)}`,
        onclick: () => setVendor(state.vendor === id ? "" : id),
      },
        ui.h("div", { class: "cg-vendor-head" },
          ui.h("span", { class: "avatar", "aria-hidden": "true" }, ui.initials(vendorName(id))),
          ui.h("div", { class: "grow" }, ui.h("div", { class: "strong" }, vendorName(id)), ui.h("div", { class: "muted small" }, v.ruta || id)),
          isClosed(cierre) ? ui.chip("cerrado", { label: "Cerrado", kind: "neutral" }) : vendorStatus(p)),
        bar(p.v, p.total, "success", "V"),
        bar(p.d, p.total, "", "D")),
      vendorFoot({ vid: id, name: vendorName(id), fecha: state.config.fecha, cierre, online: Boolean(state.online?.isOnline(id)),
        pending: p.total - p.d, admin, token: token(SCREEN) }));
  }));
  const select = $("vendor-filter");
  const current = select.value;
  select.replaceChildren(ui.h("option", { value: "" }, "Todos los vendedores"), ...ids.map((id) => ui.h("option", { value: id }, vendorName(id))));
  select.value = ids.includes(current) ? current : "";
  const total = state.items.size;
  const dDone = [...state.items.values()].filter((r) => r.d).length;
  $("subtitle").textContent = `${dayLabel(state.config)} · ${ids.length} vendedores · ${dDone} de ${total} productos despachados`;
  $("print-day").textContent = dayLabel(state.config);
}

function setVendor(id) {
  state.vendor = id;
  $("vendor-filter").value = id;
  for (const el of document.querySelectorAll(".cg-vendor-card")) el.setAttribute("aria-pressed", String(el.dataset.vendor === id));
  applyFilter();
}

// -- live ------------------------------------------------------------------------------------

const sync = ui.syncTable(table, {
  announce: (c) => {
    if (c.type !== "update" || !c.previous) return "";
    const who = vendorName(c.row.vendedor_id);
    if (!c.previous.v && c.row.v) return `${who} marcó V: ${c.row.producto}`;
    if (c.previous.v && !c.row.v) return `${who} desmarcó V: ${c.row.producto}`;
    return "";
  },
});

function onItems(rows, change) {
  state.items = rows;
  sync(rows, change);
  renderVendors();
  applyFilter();
  if (state.refocus && change.row?.id === state.refocus) {
    keepFocus(state.refocus);
    state.refocus = null;
  }
  if (change.type !== "update" || !change.previous) return;
  const vid = change.row.vendedor_id;
  const p = progressOf(vid);
  if (!change.previous.v && change.row.v && p.total && p.v === p.total) {
    ui.toast(`${vendorName(vid)} terminó de verificar su cargue (${p.v}/${p.total}). Ya puedes despacharlo.`, { kind: "success", title: "Cargue verificado" });
  }
}

function onCierres(rows, change) {
  state.cierres = new Map([...rows.values()].map((c) => [c.vendedor_id, c]));
  renderVendors();
  table.set(table.rows());
  applyFilter();
  if (change?.type !== "update" || !change.previous || change.previous.state === change.row.state) return;
  const name = vendorName(change.row.vendedor_id);
  if (isClosed(change.row)) ui.toast(`${name}: ${closedText(change.row)}.`, { kind: "info", title: "Cargue cerrado" });
  else ui.toast(`${name}: reabierto por ${change.row.reabierto_nombre || "un administrador"}${change.row.motivo ? ` (${change.row.motivo})` : ""}.`, { kind: "warning", title: "Cargue reabierto" });
}

async function exportCsv(btn) {
  const fecha = state.config.fecha;
  const q = new URLSearchParams({ fecha, ...(state.vendor ? { vendedor_id: state.vendor } : {}) });
  try {
    const res = await ui.busy(btn, fetch(`/api/cargue/hoja.csv?${q}`, { headers: { Authorization: `Bearer ${token(SCREEN)}` } }));
    if (!res.ok) throw Object.assign(new Error(res.statusText), await res.json().catch(() => ({})));
    const url = URL.createObjectURL(await res.blob());
    const a = ui.h("a", { href: url, download: `cargue-${fecha}${state.vendor ? `-${state.vendor}` : ""}.csv`, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (err) {
    ui.toast(errorText(err), { kind: "danger", title: "No se pudo exportar" });
  }
}

function openDay(fecha) {
  if (state.live) state.live.close();
  if (state.liveCierre) state.liveCierre.close();
  state.cierres = new Map();
  state.liveCierre = state.rv.live("cargue_cierre", { fecha }, { onChange: onCierres });
  table.loading(8);
  state.live = state.rv.live("cargue_item", { fecha }, {
    onChange: onItems,
    onError: (err) => ui.toast(errorText(err), { kind: "danger", title: "No se pudo cargar el despacho" }),
  });
}

const session = requireSession(SCREEN, ["despachador", "admin"]);

async function main() {
  const config = await getConfig();
  state.config = config;
  const rv = connect(SCREEN, session, config);
  state.rv = rv;
  topbar(SCREEN, session, rv, { role: session.roles.includes("admin") ? "Admin" : "Despachador",
    nav: NAV.map((n) => ({ ...n, current: n.href === "/cargue/despacho" })) });
  state.online = new Presence(rv, (id) => `vendedor:${id}`, () => renderVendors());
  $("print").addEventListener("click", () => window.print());
  $("export").addEventListener("click", (e) => exportCsv(e.currentTarget));
  ui.hydrateIcons(document.body);
  const banner = $("offline");
  rv.on("state", (s, status) => {
    banner.hidden = s === "connected" || !status.everConnected;
    banner.textContent = s === "connecting" ? "Reconectando… Las marcas de los vendedores aparecerán en cuanto vuelva la conexión." : "Sin conexión con el servidor. Reintentando…";
  });
  rv.live("cargue_user", { rol: "vendedor" }, {
    onChange: (rows) => {
      state.vendors = rows;
      renderVendors();
      table.set(table.rows());
    },
  });
  $("fecha").value = config.fecha;
  $("fecha").addEventListener("change", (e) => {
    if (!e.target.value) return;
    state.config = { ...config, fecha: e.target.value, dia: ["DOMINGO", "LUNES", "MARTES", "MIERCOLES", "JUEVES", "VIERNES", "SABADO"][new Date(`${e.target.value}T12:00:00`).getDay()] };
    openDay(e.target.value);
  });
  $("vendor-filter").addEventListener("change", (e) => setVendor(e.target.value));
  $("search").addEventListener("input", (e) => {
    state.search = e.target.value;
    applyFilter();
  });
  ui.segmented($("state-filter"), (value) => {
    state.status = value;
    applyFilter();
  });
  const keys = { "/": { run: ui.focusSearch("#search"), label: "Buscar" }, 0: { run: () => setVendor(""), label: "Todos los vendedores" } };
  for (let i = 1; i <= 9; i++) {
    keys[String(i)] = { run: () => { const el = document.querySelectorAll(".cg-vendor-card")[i - 1]; if (el) setVendor(el.dataset.vendor); }, label: `Solo el vendedor ${i}` };
  }
  ui.shortcuts(keys);
  ui.tickTimes();
  openDay(config.fecha);
  window.__cargueReady = true;
}

if (session) {
  main().catch((err) => {
    $("table").replaceChildren(ui.h("div", { class: "alert alert-danger" }, ui.icon("danger"), ui.h("div", `No se pudo cargar: ${err.message}`)));
  });
}
