// The assign / reassign dialog: asesores with their availability (online,
// busy with a lead, away) and load, kept live while the dialog is open.

import * as ui from "/static/ui/ui.js";
import { api, errorText, leaseHolder, plural } from "./common.js";
import { AVAILABILITY } from "./presence.js";

/**
 * openAssign(lead, ctx) → Promise<record | null>
 * ctx: {asesores(): [{id, nombre, status, active, derivados, enGestion}],
 *       names: Map, subscribe(fn) → unsubscribe, current(): row}
 */
export function openAssign(lead, ctx) {
  const reassign = !!lead.asesor_id;
  const list = ui.h("div", { class: "asesor-options", role: "radiogroup", "aria-label": "Asesores" });
  const search = ui.h("input", { class: "input", type: "search", placeholder: "Buscar asesor", "aria-label": "Buscar asesor", autocomplete: "off" });
  const warning = ui.h("div");
  const error = ui.h("div", { class: "error", role: "alert" });
  const submit = ui.h("button", { type: "submit", class: "btn btn-primary" }, reassign ? "Reasignar" : "Derivar");
  let chosen = null;
  let force = false;

  const summary = () => {
    const row = ctx.current() || lead;
    return ui.h("div", { class: "assign-lead" },
      ui.h("div", { class: "cell-main" }, row.nombre),
      ui.h("div", { class: "cell-sub" }, [row.telefono, row.campana].filter(Boolean).join(" · ")),
      ui.h("div", { class: "row", style: { marginTop: "var(--s-1)" } }, ui.chip(row.state),
        row.asesor_id ? ui.h("span", { class: "muted small" }, `Asesor actual: ${ctx.names.get(row.asesor_id) || row.asesor_id}`) : null));
  };
  const head = ui.h("div", null, summary());

  const renderWarning = () => {
    const row = ctx.current() || lead;
    const holder = leaseHolder(row);
    if (!holder) {
      warning.replaceChildren();
      force = false;
      submit.textContent = reassign ? "Reasignar" : "Derivar";
      return;
    }
    warning.replaceChildren(ui.h("div", { class: "alert alert-warning" }, ui.icon("lock"),
      ui.h("div", ui.h("div", { class: "alert-title" }, `${ctx.names.get(holder) || holder} tiene el wizard abierto`),
        "Si reasignas ahora, su wizard se cerrará y el lead desaparecerá de su panel.")));
    force = true;
    submit.textContent = "Reasignar de todos modos";
  };

  const renderList = () => {
    const focused = list.contains(document.activeElement) ? document.activeElement.value : null;
    const q = search.value.trim().toLowerCase();
    const row = ctx.current() || lead;
    const rank = { disponible: 0, ocupado: 1, ausente: 2 };
    const options = ctx.asesores()
      .filter((a) => a.active && (!q || a.nombre.toLowerCase().includes(q)))
      .sort((a, b) => rank[a.status] - rank[b.status]); // who can take it now, first
    if (!options.length) {
      list.replaceChildren(ui.emptyState({ icon: "users", title: "Sin asesores", text: q ? "Nadie coincide con la búsqueda." : "No hay asesores activos.", small: true }));
      return;
    }
    list.replaceChildren(...options.map((a) => {
      const [label, kind] = AVAILABILITY[a.status];
      const input = ui.h("input", { type: "radio", name: "asesor", value: a.id, checked: chosen === a.id, onchange: () => { chosen = a.id; error.textContent = ""; } });
      return ui.h("label", { class: ["asesor-option", a.status === "ausente" && "is-away"], "data-asesor": a.id },
        input,
        ui.h("span", { class: "avatar" }, ui.initials(a.nombre)),
        ui.h("span", { class: "grow" },
          ui.h("span", { class: "cell-main" }, a.nombre, a.id === row.asesor_id ? ui.h("span", { class: "muted small" }, " (actual)") : null),
          ui.h("span", { class: "cell-sub" }, `${plural(a.derivados, "derivado", "derivados")} · ${a.enGestion} en gestión`)),
        ui.chip(`disp-${a.status}`, { label, kind }));
    }));
    if (focused) list.querySelector(`input[value="${CSS.escape(focused)}"]`)?.focus();
  };

  const form = ui.h("form", { class: "stack assign-form" }, head, warning, search, list, error,
    ui.h("div", { class: "dialog-footer flush" },
      ui.h("button", { type: "button", class: "btn", onclick: () => d.close(null) }, "Cancelar"), submit));
  const d = ui.dialog({ name: "leads-assign", title: reassign ? `Reasignar lead #${lead.id}` : `Derivar lead #${lead.id}`, body: form });
  d.el.classList.add("assign-dialog");
  let result = null;

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!chosen) {
      error.textContent = "Elige un asesor.";
      return;
    }
    try {
      result = await ui.busy(submit, api(`/api/leads/${encodeURIComponent(lead.id)}/assign`, { method: "POST", body: { asesor_id: chosen, force } }));
      d.close(result);
    } catch (err) {
      error.textContent = errorText(err, Object.fromEntries(ctx.names));
    }
  });
  search.addEventListener("input", renderList);
  const off = ctx.subscribe(() => {
    head.replaceChildren(summary());
    renderWarning();
    renderList();
  });
  renderWarning();
  renderList();
  search.focus();
  return d.result.then(() => {
    off();
    return result;
  });
}
