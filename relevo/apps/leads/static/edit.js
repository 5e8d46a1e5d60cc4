// Editing a lead: nombre, teléfono, notas. The GTR edits any lead, an asesor
// the leads assigned to them (the server checks both). Each save is one
// history row: who, when, what changed.

import * as ui from "/static/ui/ui.js";
import { api, errorText } from "./common.js";

/**
 * openEdit(row, {names}) → Promise<record | null>
 * Resolves with the saved lead, or null when cancelled.
 */
export function openEdit(row, { names = new Map() } = {}) {
  const field = (id, label, input, hint) => ui.h("div", { class: "field" },
    ui.h("label", { for: id }, label), input, hint ? ui.h("div", { class: "hint" }, hint) : null);
  const nombre = ui.h("input", { class: "input", id: "ed-nombre", value: row.nombre || "", maxlength: 120, required: true, autocomplete: "off" });
  const telefono = ui.h("input", { class: "input", id: "ed-telefono", value: row.telefono || "", inputmode: "tel", autocomplete: "off" });
  const notas = ui.h("textarea", { class: "input", id: "ed-notas", maxlength: 2000, rows: 4 });
  notas.value = row.notas || "";
  const error = ui.h("div", { class: "error", role: "alert" });
  const save = ui.h("button", { type: "submit", class: "btn btn-primary", "data-action": "save-edit" }, ui.icon("check"), "Guardar cambios");
  const form = ui.h("form", { class: "stack edit-lead" },
    field("ed-nombre", "Nombre", nombre),
    field("ed-telefono", "Teléfono", telefono, "De 6 a 15 dígitos."),
    field("ed-notas", "Notas", notas, "Quedan en el historial del lead, con tu nombre y la hora."),
    error,
    ui.h("div", { class: "dialog-footer flush" },
      ui.h("button", { type: "button", class: "btn", onclick: () => d.close(null) }, "Cancelar"), save));
  const d = ui.dialog({ name: "leads-edit", title: `Editar · ${row.nombre} #${row.id}`, body: form });
  d.el.classList.add("edit-dialog");
  let saved = null;
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const data = {};
    if (nombre.value.trim() !== (row.nombre || "")) data.nombre = nombre.value;
    if (telefono.value.trim() !== (row.telefono || "")) data.telefono = telefono.value;
    if (notas.value.trim() !== (row.notas || "")) data.notas = notas.value;
    if (!Object.keys(data).length) return d.close(null);
    try {
      const res = await ui.busy(save, api(`/api/leads/${encodeURIComponent(row.id)}/edit`, { method: "POST", body: { data } }));
      saved = res.record;
      ui.toast(`${saved.nombre}: datos guardados.`, { kind: "success", title: "Lead editado" });
      d.close(saved);
    } catch (err) {
      error.textContent = errorText(err, Object.fromEntries(names));
    }
  });
  nombre.focus();
  return d.result.then(() => saved);
}
