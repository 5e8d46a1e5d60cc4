// Closing a vendor's day on the dispatcher's screen: the card's footer says
// whether the vendor is online and whether the day is open or closed (by
// whom, when); "Cerrar cargue" (dispatcher, admin) asks first, "Reabrir"
// (admin only) asks why. Closing locks the day on the server: no more V, D
// or edits; every screen learns it live from cargue_cierre.

import * as ui from "/static/ui/ui.js";
import { api, errorText } from "./common.js";

export const isClosed = (cierre) => cierre?.state === "cerrado";

/** "Cerrado por Marta Ríos · 7:42" */
export const closedText = (c) => `Cerrado por ${c.cerrado_nombre || c.cerrado_by || "el despacho"} · ${ui.fmtTime(c.cerrado_at)}`;

async function close(vid, name, fecha, pending, token) {
  const warn = pending ? ` Quedan ${ui.plural(pending, "producto", "productos")} sin D.` : "";
  const ok = await ui.confirm({
    name: "cargue-close",
    title: `Cerrar el cargue de ${name}`,
    message: `Nadie podrá marcar V ni D ni cambiar la plantilla de este día.${warn} Solo un administrador puede reabrirlo.`,
    confirmLabel: "Cerrar cargue",
    danger: true,
  });
  if (!ok) return;
  try {
    await api("/api/cargue/cierre", { method: "POST", body: { vendedor_id: vid, fecha }, token });
  } catch (err) {
    ui.toast(errorText(err), { kind: "danger", title: "No se cerró el cargue" });
  }
}

async function reopen(vid, name, fecha, token) {
  const motivo = await ui.prompt({
    name: "cargue-reopen",
    title: `Reabrir el cargue de ${name}`,
    label: "Motivo (queda en el historial)",
    placeholder: "Ej.: faltó registrar una devolución",
    confirmLabel: "Reabrir",
  });
  if (motivo === null) return;
  try {
    await api("/api/cargue/reabrir", { method: "POST", body: { vendedor_id: vid, fecha, motivo }, token });
  } catch (err) {
    ui.toast(errorText(err), { kind: "danger", title: "No se reabrió el cargue" });
  }
}

/** The footer of a vendor's card. */
export function vendorFoot({ vid, name, fecha, cierre, online, pending, admin, token }) {
  const closed = isClosed(cierre);
  return ui.h("div", { class: "cg-vendor-foot" },
    ui.h("span", { class: ["cg-online", online && "is-on"], "data-online": String(online) },
      ui.h("span", { class: "dot", "aria-hidden": "true" }), online ? "En línea" : "Desconectado"),
    ui.h("span", { class: "spacer" }),
    closed ? ui.h("span", { class: "cg-closed", title: closedText(cierre) }, ui.icon("lock"), closedText(cierre)) : null,
    closed
      ? (admin ? ui.h("button", { type: "button", class: "btn btn-sm btn-secondary cg-reopen", onclick: () => reopen(vid, name, fecha, token) }, "Reabrir") : null)
      : ui.h("button", { type: "button", class: "btn btn-sm btn-secondary cg-close", onclick: () => close(vid, name, fecha, pending, token) }, ui.icon("lock"), "Cerrar cargue"));
}
