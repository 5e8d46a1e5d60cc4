// How leads come in: one by one ("Nuevo lead") or from a CSV file, checked
// first (dry run: every bad row by its line), then the good rows imported
// in one go.

import * as ui from "/static/ui/ui.js";
import { api, errorText } from "./common.js";

const FIELD = { nombre: "Nombre", telefono: "Teléfono", documento: "Documento", campana: "Campaña", fuente: "Fuente" };
const TEMPLATE = "nombre;telefono;documento;campana;fuente\nRosa Quispe Mamani;987654321;45871236;Fibra 300 Mbps;Facebook\n";

/** Spanish text for one line error of the import. */
export function lineErrorText(e) {
  const field = FIELD[e.field] || e.field || "";
  switch (e.code) {
    case "missing": return `Falta ${field.toLowerCase()}.`;
    case "invalid":
      if (e.field === "telefono") return "Teléfono inválido (de 6 a 15 dígitos).";
      if (e.field === "documento") return "Documento inválido (de 5 a 20 letras o dígitos).";
      return `Fila ilegible: ${e.message}`;
    case "too_long": return `${field} demasiado largo.`;
    case "duplicate": return `${field} repetido: igual que la línea ${e.ref}.`;
    case "exists": return `Ya existe el lead #${e.ref} con ese teléfono.`;
    default: return e.message;
  }
}

const FILE_PROBLEM = {
  empty: "El archivo está vacío.",
  bad_header: "La primera línea debe nombrar las columnas; nombre y telefono son obligatorias.",
  too_large: "El archivo supera los 4 MB.",
  too_many_rows: "El archivo tiene más de 10.000 filas.",
  unreadable: "No se pudo leer el archivo como CSV.",
};

function errorsTable(errors) {
  const shown = errors.slice(0, 200);
  return ui.h("div", { class: "import-errors table-wrap" },
    ui.h("table", { class: "table table-compact" },
      ui.h("caption", { class: "sr-only" }, "Filas con errores"),
      ui.h("thead", ui.h("tr", ui.h("th", { class: "num" }, "Línea"), ui.h("th", "Campo"), ui.h("th", "Problema"))),
      ui.h("tbody", shown.map((e) => ui.h("tr", { "data-line": e.line },
        ui.h("td", { class: "num mono" }, e.line),
        ui.h("td", FIELD[e.field] || "—"),
        ui.h("td", lineErrorText(e)))))),
    errors.length > shown.length ? ui.h("div", { class: "small muted" }, `… y ${errors.length - shown.length} errores más.`) : null);
}

/** openImport() → Promise<number of leads imported> */
export function openImport() {
  const file = ui.h("input", { type: "file", accept: ".csv,text/csv,text/plain", class: "input", id: "csv-file" });
  const report = ui.h("div", { class: "stack", "aria-live": "polite" });
  const importBtn = ui.h("button", { type: "button", class: "btn btn-primary", disabled: true }, "Importar");
  const template = ui.h("a", { href: `data:text/csv;charset=utf-8,${encodeURIComponent(TEMPLATE)}`, download: "plantilla-leads.csv" }, "Descargar plantilla");
  let content = null;
  let imported = 0;

  const body = ui.h("div", { class: "stack" },
    ui.h("p", { class: "text-2" }, "Una fila por lead. Columnas: ", ui.h("strong", "nombre"), " y ", ui.h("strong", "telefono"),
      " (obligatorias), documento, campaña y fuente; separadas por coma o punto y coma. ", template, "."),
    ui.h("div", { class: "field" }, ui.h("label", { for: "csv-file" }, "Archivo CSV"), file),
    report,
    ui.h("div", { class: "dialog-footer flush" },
      ui.h("button", { type: "button", class: "btn", onclick: () => d.close() }, "Cerrar"), importBtn));
  const d = ui.dialog({ name: "leads-import", title: "Importar leads desde CSV", body, wide: true });
  d.el.classList.add("import-dialog");

  const problem = (err) => report.replaceChildren(ui.h("div", { class: "alert alert-danger" }, ui.icon("danger"),
    ui.h("div", ui.h("div", { class: "alert-title" }, "No se puede importar"), FILE_PROBLEM[err.body?.reason] || errorText(err))));

  file.addEventListener("change", async () => {
    const f = file.files[0];
    importBtn.disabled = true;
    if (!f) return;
    content = await f.arrayBuffer();
    report.replaceChildren(ui.h("div", { class: "row muted" }, ui.h("span", { class: "spinner" }), "Revisando el archivo…"));
    try {
      const res = await api("/api/leads/import?dry_run=1", { method: "POST", raw: content, contentType: "text/csv" });
      const bad = res.total - res.valid;
      report.replaceChildren(
        ui.h("div", { class: ["alert", bad ? "alert-warning" : "alert-success"], "data-summary": "" }, ui.icon(bad ? "alert" : "success"),
          ui.h("div", ui.h("div", { class: "alert-title" }, `${ui.fmtNumber(res.valid)} filas válidas de ${ui.fmtNumber(res.total)}`),
            bad ? `${bad} con errores: no se importarán; corrígelas y vuelve a subirlas.` : "Todo listo para importar.",
            res.ignored_columns.length ? ` Columnas ignoradas: ${res.ignored_columns.join(", ")}.` : "")),
        res.errors.length ? errorsTable(res.errors) : null);
      importBtn.disabled = res.valid === 0;
      importBtn.textContent = `Importar ${ui.fmtNumber(res.valid)} ${res.valid === 1 ? "lead" : "leads"}`;
    } catch (err) {
      problem(err);
    }
  });

  importBtn.addEventListener("click", async () => {
    try {
      const res = await ui.busy(importBtn, api("/api/leads/import", { method: "POST", raw: content, contentType: "text/csv" }));
      imported += res.imported;
      importBtn.disabled = true;
      report.prepend(ui.h("div", { class: "alert alert-success", "data-imported": String(res.imported) }, ui.icon("success"),
        ui.h("div", ui.h("div", { class: "alert-title" }, `${ui.fmtNumber(res.imported)} leads importados`),
          res.errors.length ? `${res.errors.length} filas con errores quedaron fuera (ver abajo).` : "Ya aparecen en la bandeja como Nuevo.")));
      ui.toast(`${ui.fmtNumber(res.imported)} leads importados.`, { kind: "success" });
    } catch (err) {
      problem(err);
    }
  });
  return d.result.then(() => imported);
}

/** openNewLead() → Promise<record | null>: one lead typed by hand. */
export function openNewLead() {
  const input = (name, label, attrs = {}) => {
    const el = ui.h("input", { class: "input", id: `nl-${name}`, name, autocomplete: "off", ...attrs });
    const err = ui.h("div", { class: "error" });
    return { name, el, err, field: ui.h("div", { class: "field" }, ui.h("label", { for: `nl-${name}` }, label), el, err) };
  };
  const fields = [
    input("nombre", "Nombre *", { required: true }),
    input("telefono", "Teléfono *", { required: true, inputmode: "tel" }),
    input("documento", "Documento"),
    input("campana", "Campaña"),
    input("fuente", "Fuente"),
  ];
  const error = ui.h("div", { class: "error", role: "alert" });
  const submit = ui.h("button", { type: "submit", class: "btn btn-primary" }, "Crear lead");
  const form = ui.h("form", { class: "stack" }, ui.h("div", { class: "grid-2 form-grid" }, fields.map((f) => f.field)), error,
    ui.h("div", { class: "dialog-footer flush" }, ui.h("button", { type: "button", class: "btn", onclick: () => d.close(null) }, "Cancelar"), submit));
  const d = ui.dialog({ name: "leads-new", title: "Nuevo lead", body: form });
  let created = null;
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    for (const f of fields) {
      f.err.textContent = "";
      f.el.removeAttribute("aria-invalid");
    }
    const data = Object.fromEntries(fields.map((f) => [f.name, f.el.value.trim()]).filter(([, v]) => v));
    try {
      created = await ui.busy(submit, api("/api/leads/create", { method: "POST", body: { data } }));
      d.close(created);
    } catch (err) {
      const f = fields.find((x) => x.name === err.body?.field);
      if (f) {
        f.el.setAttribute("aria-invalid", "true");
        f.err.textContent = errorText(err);
        f.el.focus();
      } else error.textContent = errorText(err);
    }
  });
  fields[0].el.focus();
  return d.result.then(() => created);
}
