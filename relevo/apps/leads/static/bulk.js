// The GTR's bulk tools: select several leads (a checkbox per row, or every
// lead the filters show), derive them all to one asesor, and see the result
// lead by lead — each lead is its own transaction on the server, so one
// refused (terminado, a wizard open) leaves the others derived. Also the
// CSV export of the board as filtered.

import * as ui from "/static/ui/ui.js";
import { api, errorText, loadSession, plural } from "./common.js";

const MAX = 200;

function rowError(r, names) {
  const err = { code: r.code, message: r.message, body: r };
  return errorText(err, names);
}

/**
 * bulkTools({bar, names, asesores(), rows(), visible(), onChange()}) →
 *   {column, picked: Set, clear(), selectVisible(), toggle(id)}
 * `column` is the table's first column (a checkbox per row).
 */
export function bulkTools(ctx) {
  const picked = new Set();
  const count = ui.h("span", { class: "bulk-count", "aria-live": "polite" });
  const select = ui.h("select", { class: "select select-sm", id: "bulk-asesor", "aria-label": "Asesor para los seleccionados" });
  const go = ui.h("button", { type: "button", class: "btn btn-sm btn-primary", "data-action": "bulk-assign" }, ui.icon("send"), "Derivar seleccionados");
  const clear = ui.h("button", { type: "button", class: "btn btn-sm btn-ghost", onclick: () => { picked.clear(); changed(); } }, ui.icon("x"), "Quitar selección");
  ctx.bar.replaceChildren(count, ui.h("label", { class: "sr-only", for: "bulk-asesor" }, "Asesor"), select, go, clear);
  ctx.bar.hidden = true;

  function fillAsesores() {
    const keep = select.value;
    select.replaceChildren(ui.h("option", { value: "" }, "Elige un asesor…"),
      ...ctx.asesores().filter((a) => a.active).map((a) => ui.h("option", { value: a.id }, `${a.nombre} · ${a.derivados + a.enGestion} activos`)));
    select.value = keep;
  }

  function changed() {
    for (const id of picked) if (!ctx.rows().has(id)) picked.delete(id);
    ctx.bar.hidden = picked.size === 0;
    count.textContent = plural(picked.size, "lead seleccionado", "leads seleccionados");
    if (picked.size) fillAsesores();
    ctx.onChange();
  }

  function toggle(id, on) {
    if (on && picked.size >= MAX) {
      ui.toast(`Puedes derivar hasta ${MAX} leads a la vez.`, { kind: "neutral" });
      return false;
    }
    if (on) picked.add(id);
    else picked.delete(id);
    changed();
    return true;
  }

  const column = {
    label: "", className: "select-cell", flash: false,
    value: (r) => [picked.has(r.id), r.state === "terminado"],
    render: (r) => {
      if (r.state === "terminado") return "";
      const box = ui.h("input", { type: "checkbox", class: "bulk-pick", checked: picked.has(r.id), "aria-label": `Seleccionar ${r.nombre}` });
      box.addEventListener("click", (e) => e.stopPropagation());
      box.addEventListener("change", () => { if (!toggle(r.id, box.checked)) box.checked = false; });
      return box;
    },
  };

  function selectVisible() {
    for (const r of ctx.visible()) {
      if (picked.size >= MAX) break;
      if (r.state !== "terminado") picked.add(r.id);
    }
    changed();
  }

  go.addEventListener("click", async () => {
    if (!select.value) {
      ui.toast("Elige el asesor al que derivar los leads seleccionados.", { kind: "neutral" });
      select.focus();
      return;
    }
    const ids = [...picked];
    const asesor = ctx.names.get(select.value) || select.value;
    const ok = await ui.confirm({
      name: "leads-bulk-confirm",
      title: `¿Derivar ${plural(ids.length, "lead", "leads")} a ${asesor}?`,
      message: "Cada lead se deriva por separado: si alguno no se puede (terminado, con el wizard abierto), los demás sí se derivan y verás cuál falló y por qué.",
      confirmLabel: "Derivar",
    });
    if (!ok) return;
    let res;
    try {
      res = await ui.busy(go, api("/api/leads/assign", { method: "POST", body: { ids, asesor_id: select.value } }));
    } catch (err) {
      ui.toast(errorText(err, Object.fromEntries(ctx.names)), { kind: "danger", title: "No se derivó ningún lead" });
      return;
    }
    for (const r of res.results) if (r.ok) picked.delete(r.id);
    changed();
    showResult(res, asesor);
  });

  function showResult(res, asesor) {
    const names = Object.fromEntries(ctx.names);
    const items = res.results.map((r) => {
      const row = ctx.rows().get(r.id);
      const label = row ? `${row.nombre} #${r.id}` : `#${r.id}`;
      return ui.h("li", { class: ["bulk-row", r.ok ? "ok" : "failed"], "data-id": r.id, "data-ok": String(r.ok) },
        ui.icon(r.ok ? "success" : "danger"), ui.h("span", { class: "cell-main-sm" }, label),
        ui.h("span", { class: "muted small" }, r.ok ? `derivado a ${asesor}` : rowError(r, names)));
    });
    const title = res.failed
      ? `${plural(res.assigned, "derivado", "derivados")}, ${plural(res.failed, "no se pudo", "no se pudieron")}`
      : `${plural(res.assigned, "lead derivado", "leads derivados")} a ${asesor}`;
    const d = ui.dialog({
      name: "leads-bulk",
      title,
      body: [res.failed ? ui.h("p", { class: "muted" }, "Los que fallaron siguen seleccionados: corrige y vuelve a intentarlo.") : "",
        ui.h("ul", { class: "list bulk-results" }, items)],
      actions: [{ label: "Cerrar", kind: "primary", value: true, autofocus: true }],
    });
    d.el.classList.add("bulk-dialog");
  }

  return {
    column, picked, selectVisible, refresh: changed,
    clear: () => { picked.clear(); changed(); },
    toggle: (id) => { const r = ctx.rows().get(id); if (r && r.state !== "terminado") toggle(id, !picked.has(id)); },
  };
}

/** Download the board as filtered (GET /api/leads/export, text/csv). */
export async function exportCsv(filters, button) {
  const q = new URLSearchParams();
  if (filters.status) q.set("estado", filters.status);
  if (filters.asesor) q.set("asesor", filters.asesor);
  if (filters.campana) q.set("campana", filters.campana);
  if (filters.qText) q.set("q", filters.qText);
  q.set("orden", filters.sort || "recent");
  const run = async () => {
    const res = await fetch(`/api/leads/export?${q}`, { headers: { Authorization: `Bearer ${loadSession()?.token}` } });
    if (!res.ok) {
      let body = {};
      try { body = await res.json(); } catch (_) { /* not JSON */ }
      throw Object.assign(new Error(body.message || res.statusText), { code: body.code, body });
    }
    return res.blob();
  };
  try {
    const blob = await ui.busy(button, run());
    const url = URL.createObjectURL(blob);
    const stamp = new Date().toISOString().slice(0, 16).replace(/[-:T]/g, "");
    const a = ui.h("a", { href: url, download: `leads-${stamp}.csv`, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    ui.toast("El archivo incluye solo los leads que muestran los filtros.", { kind: "success", title: "CSV exportado" });
  } catch (err) {
    ui.toast(errorText(err), { kind: "danger", title: "No se pudo exportar" });
  }
}
