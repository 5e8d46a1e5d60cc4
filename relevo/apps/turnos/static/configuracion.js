// Configuration (/turnos/configuracion, supervisors): areas, trámites and
// mesas, each a table and a form (new, or the row being edited). Saving
// sends that one row to POST /api/turnos/config, which checks everything
// in one transaction and answers a Spanish `mensaje` when it refuses (a
// prefix used twice, a mesa an operator has open...). Changes by others
// arrive live on turnos:config.

import * as relevo from "/relevo.js";
import * as ui from "/static/ui/ui.js";
import { api, askToken, errorText, loadConfig, staffToken } from "./common.js";

const $ = (id) => document.getElementById(id);
let config = await loadConfig();
const shell = ui.shell({
  app: "Turnos",
  home: "/turnos/",
  nav: [
    { label: "Estadísticas", href: "/turnos/admin" },
    { label: "Reportes", href: "/turnos/reportes" },
    { label: "Configuración", href: "/turnos/configuracion", current: true },
    { label: "Operador", href: "/turnos/operador" },
    { label: "Monitor", href: "/turnos/monitor" },
    { label: "Kiosco", href: "/turnos/kiosco" },
  ],
  onLogout: () => auth.logout(),
});
ui.hydrateIcons();

const auth = await staffToken("admin", config);
if (!auth.token) auth.token = await askToken($("login"), "admin");
const rv = relevo.connect({ token: auth.token, getToken: async () => (auth.token = await auth.refresh()) });
relevo.indicator(shell.conn, rv);
shell.setUser(auth.user());
$("config").hidden = false;

const slug = (text) => text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
  .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 64);
const areaName = (id) => config.areas.find((a) => a.id === id)?.nombre || id;
const yesNo = (v) => (v === false ? ui.chip("no", { label: "Fuera de servicio", kind: "neutral" }) : ui.chip("si", { label: "En servicio", kind: "success" }));

// Each section: its table (config[table]), its form fields, how a row becomes a body.
const SECTIONS = [
  {
    table: "areas", title: "Áreas", one: "área", nuevo: "Nueva área", icon: "apps",
    columns: [
      { key: "nombre", label: "Área", primary: true },
      { key: "orden", label: "Orden", className: "num" },
    ],
    fields: (row) => [
      text("nombre", "Nombre", row.nombre, { required: true, maxlength: 80 }),
      number("orden", "Orden", row.orden ?? 0),
    ],
  },
  {
    table: "tramites", title: "Trámites", one: "trámite", nuevo: "Nuevo trámite", icon: "ticket",
    columns: [
      { key: "nombre", label: "Trámite", primary: true, render: (r) => [ui.h("span", { class: "tag" }, r.prefijo), " ", r.nombre] },
      { key: "area_id", label: "Área", render: (r) => areaName(r.area_id) },
      { key: "activo", label: "Estado", render: (r) => yesNo(r.activo) },
    ],
    fields: (row) => [
      text("nombre", "Nombre", row.nombre, { required: true, maxlength: 80 }),
      text("prefijo", "Letra del número", row.prefijo, { required: true, maxlength: 3, pattern: "[A-Z]{1,3}", hint: "1 a 3 mayúsculas: A-001" }),
      select("area_id", "Área", row.area_id, config.areas.map((a) => [a.id, a.nombre])),
      number("orden", "Orden", row.orden ?? 0),
      check("activo", "En servicio (se ofrece en el kiosco)", row.activo !== false),
    ],
  },
  {
    table: "mesas", title: "Mesas", one: "mesa", nuevo: "Nueva mesa", icon: "users",
    columns: [
      { key: "nombre", label: "Mesa", primary: true },
      { key: "area_id", label: "Área", render: (r) => areaName(r.area_id) },
      { key: "tramites", label: "Atiende", value: (r) => (r.tramites || []).join(","),
        render: (r) => (r.tramites || []).map((t) => config.tramites.find((x) => x.id === t)?.prefijo || t).join(" · ") || "—" },
      { key: "activa", label: "Estado", render: (r) => yesNo(r.activa) },
    ],
    fields: (row) => {
      const area = select("area_id", "Área", row.area_id, config.areas.map((a) => [a.id, a.nombre]));
      const box = ui.h("fieldset", { class: "checks" }, ui.h("legend", { class: "small" }, "Trámites que atiende"));
      const paint = () => {
        const areaId = area.querySelector("select").value;
        const chosen = new Set([...box.querySelectorAll("input:checked")].map((i) => i.value).concat(box.dataset.init ? [] : row.tramites || []));
        box.dataset.init = "1";
        box.replaceChildren(box.firstChild, ...config.tramites.filter((t) => t.area_id === areaId).map((t) =>
          ui.h("label", { class: "check" }, ui.h("input", { type: "checkbox", name: "tramites", value: t.id, checked: chosen.has(t.id) }), ` ${t.prefijo} · ${t.nombre}`)));
      };
      area.querySelector("select").addEventListener("change", paint);
      paint();
      return [
        text("nombre", "Nombre", row.nombre, { required: true, maxlength: 80 }),
        area, number("orden", "Orden", row.orden ?? 0), box,
        check("activa", "En servicio (los operadores pueden abrirla)", row.activa !== false),
      ];
    },
  },
];

let uid = 0;
function field(label, control, hint) {
  const id = `f${++uid}`;
  control.id = id;
  return ui.h("div", { class: "field" }, ui.h("label", { for: id }, label), control, hint ? ui.h("div", { class: "hint" }, hint) : null);
}
const text = (name, label, value, { hint, ...attrs } = {}) => field(label, ui.h("input", { class: "input", name, value: value ?? "", autocomplete: "off", ...attrs }), hint);
const number = (name, label, value) => field(label, ui.h("input", { class: "input", name, type: "number", step: 1, value: String(value) }));
const select = (name, label, value, options) => field(label, ui.h("select", { class: "select", name },
  options.map(([v, l]) => ui.h("option", { value: v, selected: v === value }, l))));
const check = (name, label, checked) => ui.h("label", { class: "check checks" }, ui.h("input", { type: "checkbox", name, checked }), ` ${label}`);

function readForm(form, section) {
  const body = {};
  for (const el of form.elements) {
    if (!el.name || el.name === "id" || el.name === "tramites") continue;
    if (el.type === "checkbox") body[el.name] = el.checked;
    else if (el.type === "number") body[el.name] = Number.parseInt(el.value || "0", 10);
    else body[el.name] = el.value.trim();
  }
  if (section.table === "mesas") body.tramites = [...form.querySelectorAll("input[name=tramites]:checked")].map((i) => i.value);
  return body;
}

function renderSection(section) {
  const card = ui.h("section", { class: "card", id: `sec-${section.table}`, "aria-labelledby": `t-${section.table}` });
  const tableBox = ui.h("div");
  const formBox = ui.h("div");
  card.append(
    ui.h("div", { class: "card-header" }, ui.h("h2", { id: `t-${section.table}` }, section.title),
      ui.h("button", { class: "btn btn-sm", type: "button", dataset: { nuevo: section.table }, onclick: () => edit(null) }, ui.icon("plus"), section.nuevo)),
    tableBox, formBox);
  const tbl = ui.table(tableBox, {
    caption: section.title,
    compact: true,
    columns: [...section.columns, { key: "_edit", label: "", value: () => "", render: (r) => ui.h("button", {
      class: "btn btn-sm btn-ghost", type: "button", dataset: { editar: r.id }, "aria-label": `Editar ${r.nombre}`, onclick: () => edit(r),
    }, "Editar") }],
    empty: { icon: section.icon, title: `Sin ${section.title.toLowerCase()}`, text: "Cree la primera con el formulario." },
  });

  let shown = { row: null, dirty: false }; // the form's row, and whether it was touched
  function edit(row) {
    const isNew = !row;
    shown = { row, dirty: false };
    const error = ui.h("p", { class: "error", role: "alert", hidden: true });
    const idInput = text("id", "Identificador", row?.id, { readonly: !isNew, pattern: "[A-Za-z0-9_.\\-]{1,64}", maxlength: 64,
      hint: isNew ? "Letras, números, . _ - (vacío: se toma del nombre)" : "No se puede cambiar" });
    const form = ui.h("form", { class: "config-form", dataset: { form: section.table }, "aria-label": isNew ? section.nuevo : `Editar ${row.nombre}` },
      ui.h("h3", { class: "small", style: { gridColumn: "1 / -1", margin: 0 } }, isNew ? section.nuevo : `Editar ${row.nombre}`),
      idInput, ...section.fields(row || {}),
      ui.h("div", { class: "actions", style: { gridColumn: "1 / -1" } },
        ui.h("button", { class: "btn btn-primary", type: "submit" }, "Guardar"),
        isNew ? null : ui.h("button", { class: "btn btn-ghost", type: "button", onclick: () => edit(null) }, "Cancelar")),
      ui.h("div", { style: { gridColumn: "1 / -1" } }, error));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = readForm(form, section);
      const id = row?.id || form.elements.id.value.trim() || slug(body.nombre || "");
      try {
        const res = await ui.busy(form.querySelector("button[type=submit]"), api("/api/turnos/config", { method: "POST", token: auth.token, body: { [section.table]: [{ id, ...body }] } }));
        config = { ...config, ...res };
        renderAll(section);
        edit(null);
        ui.toast(`${body.nombre || id}: guardado.`, { kind: "success" });
        ui.announce("Configuración guardada");
        $(`sec-${section.table}`).querySelector(`[data-editar="${CSS.escape(id)}"]`)?.focus();
      } catch (err) {
        error.textContent = errorText(err);
        error.hidden = false;
        form.querySelector("input:not([readonly]), select")?.focus();
      }
    });
    form.addEventListener("input", () => { shown.dirty = true; });
    formBox.replaceChildren(form);
    if (row) form.querySelector("[name=nombre]").focus();
  }
  // New areas or trámites change the choices of the other forms: rebuild an untouched one.
  const refresh = () => {
    if (!shown.dirty) edit(shown.row && config[section.table].find((r) => r.id === shown.row.id));
  };
  return { card, tbl, edit, refresh };
}

const built = SECTIONS.map((s) => ({ section: s, ...renderSection(s) }));
$("secciones").replaceChildren(...built.map((b) => b.card));
function renderAll(except = null) {
  for (const b of built) {
    b.tbl.set(config[b.section.table], { flash: true });
    if (b.section !== except) b.refresh();
  }
}
renderAll();
for (const b of built) b.edit(null);

// Changes made elsewhere (another supervisor, the API): read again, keep the open form.
let reloading = null;
rv.subscribe("turnos:config", () => {
  clearTimeout(reloading);
  reloading = setTimeout(async () => { config = await loadConfig(); renderAll(); }, 150);
});
document.body.dataset.ready = "true";
