// The dispatcher's "Cargado / devuelto" dialog for one row: what actually
// left (default: as planned), what came back, and why. PATCH
// /api/cargue/items/{id}; a refusal (no reason, more returned than loaded, a
// closed day) shows its Spanish sentence in the dialog, which stays open.

import * as ui from "/static/ui/ui.js";
import { api, errorText } from "./common.js";

export const MOTIVOS = ["Faltante en bodega", "Producto averiado", "Producto vencido", "Cliente no recibió", "Sobrante", "Cambio de pedido"];

const num = (id, label, value, hint) => ui.h("div", { class: "field" },
  ui.h("label", { for: id }, label),
  ui.h("input", { class: "input", id, type: "number", min: "0", max: "100000", step: "1", inputmode: "numeric", value: String(value ?? "") }),
  hint ? ui.h("div", { class: "hint" }, hint) : null);

/** Open the dialog for `row`; resolves when it closes. */
export function editQuantities(row, { token, vendorName }) {
  const planned = row.cantidad ?? 0;
  const alert = ui.h("div", { class: "alert alert-danger", role: "alert", hidden: true });
  const motivo = ui.h("input", { class: "input", id: "cg-motivo", list: "cg-motivos", maxlength: "120", value: row.motivo || "", autocomplete: "off" });
  const form = ui.h("form", { class: "cg-qty-form", novalidate: true },
    ui.h("p", { class: "muted" }, `${vendorName} · ${row.codigo ? `${row.codigo} · ` : ""}planeado ${planned} ${row.unidad || ""}`),
    ui.h("div", { class: "cg-qty-grid" },
      num("cg-cargada", "Cargado", row.cargada ?? planned, "Lo que salió en el camión"),
      num("cg-devuelta", "Devuelto", row.devuelta ?? 0, "Lo que volvió al final del día")),
    ui.h("div", { class: "field" },
      ui.h("label", { for: "cg-motivo" }, "Motivo"),
      motivo,
      ui.h("datalist", { id: "cg-motivos" }, MOTIVOS.map((m) => ui.h("option", { value: m }))),
      ui.h("div", { class: "hint" }, "Obligatorio si hay diferencia o devolución.")),
    alert,
    ui.h("div", { class: "dialog-footer cg-form-actions" },
      ui.h("button", { type: "button", class: "btn btn-secondary", "data-cancel": "" }, "Cancelar"),
      ui.h("button", { type: "submit", class: "btn btn-primary" }, "Guardar")));
  const d = ui.dialog({ name: "cargue-quantities", title: `Cargado y devuelto: ${row.producto}`, body: form });
  form.querySelector("[data-cancel]").addEventListener("click", () => d.close());
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const cargada = Number(form.querySelector("#cg-cargada").value);
    const devuelta = Number(form.querySelector("#cg-devuelta").value || 0);
    const body = { cargada: cargada === planned ? null : cargada, devuelta, motivo: motivo.value.trim() || null };
    try {
      await ui.busy(form.querySelector("[type=submit]"), api(`/api/cargue/items/${encodeURIComponent(row.id)}`, { method: "PATCH", body, token }));
      d.close();
      ui.toast(`${row.producto}: cantidades guardadas.`, { kind: "success" });
    } catch (err) {
      alert.hidden = false;
      alert.textContent = errorText(err);
    }
  });
  form.querySelector("#cg-cargada").focus();
  return d.result;
}

/** What the sheet shows for a row's quantities: "10 de 12 · dev. 2". */
export function quantityText(row) {
  const parts = [];
  if (row.cargada != null && row.cargada !== row.cantidad) parts.push(`Cargado ${row.cargada}`);
  if (row.devuelta) parts.push(`Dev. ${row.devuelta}`);
  return parts.join(" · ");
}
