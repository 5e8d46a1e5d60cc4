// The plantilla editor (dispatcher, admin): one vendor's products for a day.
// Add a product (the catalog suggests those already loaded today), edit or
// remove one the vendor has not ticked, copy another day's plantilla. Rows
// are a live query of the day (despacho:cargue): a V ticked on a phone
// locks its row here at once; a closed day locks the whole editor.

import * as ui from "/static/ui/ui.js";
import { closedText, isClosed } from "./cierre.js";
import { api, byOrder, connect, dayLabel, errorText, getConfig, NAV, requireSession, token, topbar } from "./common.js";

const SCREEN = "despacho";
const $ = (id) => document.getElementById(id);
const state = { vendors: new Map(), items: new Map(), cierres: new Map(), vendor: "", fecha: "", live: null, liveCierre: null };
const call = (path, opts = {}) => api(path, { ...opts, token: token(SCREEN) });
const closed = () => isClosed(state.cierres.get(state.vendor));
const mine = () => [...state.items.values()].filter((r) => r.vendedor_id === state.vendor);

// -- the table --------------------------------------------------------------------------

function actions(row) {
  const locked = closed() || row.state !== "pendiente";
  const why = closed() ? "Cargue cerrado" : row.state !== "pendiente" ? "El vendedor ya marcó V" : "";
  return ui.h("div", { class: "cg-row-actions" },
    ui.h("button", { type: "button", class: "btn btn-ghost btn-sm cg-edit", disabled: locked, title: why || "Editar", "aria-label": `Editar ${row.producto}`, onclick: () => edit(row) }, "Editar"),
    ui.h("button", { type: "button", class: "btn btn-ghost btn-sm cg-remove", disabled: locked, title: why || "Quitar", "aria-label": `Quitar ${row.producto}`, onclick: () => remove(row) }, "Quitar"));
}

const table = ui.table($("table"), {
  caption: "Productos de la plantilla",
  compact: true,
  sort: byOrder,
  rowAttrs: (r) => ({ "data-state": r.state }),
  columns: [
    { key: "orden", label: "#", className: "num", value: (r) => r.orden },
    { key: "producto", label: "Producto", primary: true, value: (r) => `${r.producto}|${r.codigo}`,
      render: (r) => ui.h("div", ui.h("div", { class: "cell-main" }, r.producto), ui.h("div", { class: "cell-sub mono" }, r.codigo || "")) },
    { key: "cantidad", label: "Cantidad", className: "num", value: (r) => `${r.cantidad} ${r.unidad}`,
      render: (r) => ui.h("span", ui.h("b", ui.fmtNumber(r.cantidad ?? 0)), " ", ui.h("span", { class: "muted small" }, r.unidad || "")) },
    { key: "state", label: "Estado", render: (r) => ui.chip(r.state) },
    { label: "", className: "cg-col-actions", flash: false, value: (r) => `${r.state}|${closed()}|${r.producto}|${r.cantidad}|${r.codigo}|${r.unidad}|${r.orden}`, render: actions },
  ],
  empty: { icon: "truck", title: "Plantilla vacía", text: "Agrega productos arriba o copia la plantilla de otro día." },
});
table.loading(6);

function render() {
  const rows = mine();
  table.set(rows);
  const box = $("closed");
  const c = state.cierres.get(state.vendor);
  box.hidden = !closed();
  if (closed()) box.replaceChildren(ui.icon("lock"), ui.h("div", ui.h("b", `${closedText(c)}. `), "La plantilla de este día ya no se puede cambiar."));
  for (const el of $("add").elements) el.disabled = closed();
  $("copy").disabled = closed();
  const name = state.vendors.get(state.vendor)?.nombre || state.vendor;
  $("subtitle").textContent = `${name} · ${dayLabel({ fecha: state.fecha, dia: dia(state.fecha) })}`;
  $("meta").textContent = ui.plural(rows.length, "producto", "productos");
  const catalog = new Map();
  for (const r of state.items.values()) if (!catalog.has(r.producto)) catalog.set(r.producto, r);
  $("catalogo").replaceChildren(...[...catalog.keys()].sort().map((p) => ui.h("option", { value: p })));
  state.catalog = catalog;
}

const DIA = ["DOMINGO", "LUNES", "MARTES", "MIERCOLES", "JUEVES", "VIERNES", "SABADO"];
const dia = (fecha) => DIA[new Date(`${fecha}T12:00:00`).getDay()];

// -- actions ----------------------------------------------------------------------------

async function add(e) {
  e.preventDefault();
  const f = $("add");
  const body = {
    vendedor_id: state.vendor, fecha: state.fecha,
    producto: f.producto.value.trim(), codigo: f.codigo.value.trim() || null,
    cantidad: Number(f.cantidad.value || 0), unidad: f.unidad.value.trim() || "und",
  };
  if (!body.producto) {
    f.producto.focus();
    ui.toast("Escribe el producto.", { kind: "warning" });
    return;
  }
  try {
    await ui.busy($("add-btn"), call("/api/cargue/items", { method: "POST", body }));
    f.producto.value = "";
    f.codigo.value = "";
    f.producto.focus();
  } catch (err) {
    ui.toast(errorText(err), { kind: "danger", title: "No se agregó el producto" });
  }
}

function fill() {
  const known = state.catalog?.get($("add-producto").value);
  if (!known) return;
  $("add-codigo").value = known.codigo || "";
  $("add-unidad").value = known.unidad || "und";
}

function edit(row) {
  const field = (name, label, value, attrs = {}) => ui.h("div", { class: "field" },
    ui.h("label", { for: `cg-e-${name}` }, label),
    ui.h("input", { class: "input", id: `cg-e-${name}`, name, value: String(value ?? ""), ...attrs }));
  const alert = ui.h("div", { class: "alert alert-danger", role: "alert", hidden: true });
  const form = ui.h("form", { class: "cg-qty-form", novalidate: true },
    field("producto", "Producto", row.producto, { maxlength: "120", required: true }),
    ui.h("div", { class: "cg-qty-grid" },
      field("codigo", "Código", row.codigo, { maxlength: "40" }),
      field("unidad", "Unidad", row.unidad, { maxlength: "40" }),
      field("cantidad", "Cantidad", row.cantidad, { type: "number", min: "0", max: "100000", inputmode: "numeric" }),
      field("orden", "Orden", row.orden, { type: "number", min: "0", max: "100000", inputmode: "numeric" })),
    alert,
    ui.h("div", { class: "dialog-footer cg-form-actions" },
      ui.h("button", { type: "button", class: "btn btn-secondary", "data-cancel": "" }, "Cancelar"),
      ui.h("button", { type: "submit", class: "btn btn-primary" }, "Guardar")));
  const d = ui.dialog({ name: "cargue-edit", title: `Editar ${row.producto}`, body: form });
  form.querySelector("[data-cancel]").addEventListener("click", () => d.close());
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = {
      producto: form.producto.value.trim(), codigo: form.codigo.value.trim(), unidad: form.unidad.value.trim() || "und",
      cantidad: Number(form.cantidad.value || 0), orden: Number(form.orden.value || 0),
    };
    try {
      await ui.busy(form.querySelector("[type=submit]"), call(`/api/cargue/items/${encodeURIComponent(row.id)}`, { method: "PATCH", body }));
      d.close();
    } catch (err) {
      alert.hidden = false;
      alert.textContent = errorText(err);
    }
  });
  form.producto.focus();
}

async function remove(row) {
  const ok = await ui.confirm({ name: "cargue-remove", title: "Quitar producto", message: `¿Quitar «${row.producto}» de la plantilla?`, confirmLabel: "Quitar", danger: true });
  if (!ok) return;
  try {
    await call(`/api/cargue/items/${encodeURIComponent(row.id)}`, { method: "DELETE" });
  } catch (err) {
    ui.toast(errorText(err), { kind: "danger", title: "No se quitó el producto" });
  }
}

async function copyFrom() {
  const from = $("copy-from").value;
  if (!from || from === state.fecha) {
    ui.toast("Elige otra fecha para copiar.", { kind: "warning" });
    return;
  }
  try {
    const snap = await call(`/api/records/cargue_item?${new URLSearchParams({ vendedor_id: state.vendor, fecha: from })}`);
    const rows = snap.rows.sort(byOrder).map((r) => ({ producto: r.producto, cantidad: r.cantidad ?? 0, codigo: r.codigo || null, unidad: r.unidad || null, orden: r.orden }));
    if (!rows.length) {
      ui.toast("Ese día no tiene plantilla.", { kind: "warning" });
      return;
    }
    const ok = await ui.confirm({ name: "cargue-copy", title: "Copiar plantilla", message: `Se copiarán ${ui.plural(rows.length, "producto", "productos")} del ${from}. Los productos de este día aún sin V se reemplazan.`, confirmLabel: "Copiar" });
    if (!ok) return;
    await ui.busy($("copy"), call("/api/cargue/plantillas", { method: "POST", body: { vendedor_id: state.vendor, fecha: state.fecha, rows } }));
    ui.toast(`Plantilla copiada: ${ui.plural(rows.length, "producto", "productos")}.`, { kind: "success" });
  } catch (err) {
    ui.toast(errorText(err), { kind: "danger", title: "No se copió la plantilla" });
  }
}

// -- start ------------------------------------------------------------------------------

function openDay() {
  state.live?.close();
  state.liveCierre?.close();
  table.loading(6);
  state.live = state.rv.live("cargue_item", { fecha: state.fecha }, {
    onChange: (rows) => { state.items = rows; render(); },
    onError: (err) => ui.toast(errorText(err), { kind: "danger", title: "No se pudo cargar la plantilla" }),
  });
  state.liveCierre = state.rv.live("cargue_cierre", { fecha: state.fecha }, {
    onChange: (rows) => {
      state.cierres = new Map([...rows.values()].map((c) => [c.vendedor_id, c]));
      render();
    },
  });
}

const session = requireSession(SCREEN, ["despachador", "admin"]);

async function main() {
  const config = await getConfig();
  const rv = connect(SCREEN, session, config);
  state.rv = rv;
  topbar(SCREEN, session, rv, { role: session.roles.includes("admin") ? "Admin" : "Despachador",
    nav: NAV.map((n) => ({ ...n, current: n.href === "/cargue/plantillas" })) });
  ui.hydrateIcons(document.body);
  const banner = $("offline");
  rv.on("state", (s, status) => {
    banner.hidden = s === "connected" || !status.everConnected;
    banner.textContent = "Sin conexión con el servidor: la plantilla puede estar desactualizada. Reintentando…";
  });
  const params = new URLSearchParams(location.search);
  state.fecha = params.get("fecha") || config.fecha;
  state.vendor = params.get("vendedor") || "";
  $("fecha").value = state.fecha;
  rv.live("cargue_user", { rol: "vendedor" }, {
    onChange: (rows) => {
      state.vendors = rows;
      const ids = [...rows.keys()].sort();
      if (!state.vendor || !rows.has(state.vendor)) state.vendor = ids[0] || "";
      $("vendor").replaceChildren(...ids.map((id) => ui.h("option", { value: id }, rows.get(id).nombre || id)));
      $("vendor").value = state.vendor;
      render();
    },
  });
  $("vendor").addEventListener("change", (e) => { state.vendor = e.target.value; render(); });
  $("fecha").addEventListener("change", (e) => {
    if (!e.target.value) return;
    state.fecha = e.target.value;
    openDay();
  });
  $("add").addEventListener("submit", add);
  $("add-producto").addEventListener("change", fill);
  $("copy").addEventListener("click", copyFrom);
  openDay();
  window.__cargueReady = true;
}

if (session) {
  main().catch((err) => {
    $("table").replaceChildren(ui.h("div", { class: "alert alert-danger" }, ui.icon("danger"), ui.h("div", `No se pudo cargar: ${err.message}`)));
  });
}
