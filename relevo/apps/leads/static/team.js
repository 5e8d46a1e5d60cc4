// The GTR's side panel: every asesor with their availability (presence and
// the wizards they hold) and their load (derivados, en gestión).

import * as ui from "/static/ui/ui.js";
import { leaseHolder, plural } from "./common.js";
import { AVAILABILITY } from "./presence.js";

/** One entry per asesor of the directory: {id, nombre, active, status, derivados, enGestion}. */
export function teamSummary(users, rows, availability) {
  const load = new Map();
  const busy = new Set();
  for (const r of rows.values()) {
    if (r.asesor_id && (r.state === "derivado" || r.state === "en_gestion")) {
      const l = load.get(r.asesor_id) || { derivados: 0, enGestion: 0 };
      if (r.state === "derivado") l.derivados++;
      else l.enGestion++;
      load.set(r.asesor_id, l);
    }
    const h = leaseHolder(r);
    if (h) busy.add(h);
  }
  return [...users.values()].filter((u) => u.rol === "asesor").map((u) => {
    const online = availability.isOnline(u.id);
    const status = !online ? "ausente" : busy.has(u.id) ? "ocupado" : "disponible";
    const l = load.get(u.id) || { derivados: 0, enGestion: 0 };
    return { id: u.id, nombre: u.nombre, active: u.activo !== false, status, ...l };
  }).sort((a, b) => a.nombre.localeCompare(b.nombre, "es"));
}

/** Render the panel into `list` (a <ul>), one <li> per asesor kept by id,
 * so keyboard focus survives live updates. `selected`: the asesor the table
 * is filtered by; `onPick(id)` toggles that filter. */
export function renderTeam(list, meta, team, { selected, onPick }) {
  const max = Math.max(1, ...team.map((a) => a.derivados + a.enGestion));
  const keep = new Set();
  let prev = null;
  for (const a of team) {
    const [label, kind] = AVAILABILITY[a.status];
    let li = list.querySelector(`li[data-asesor="${CSS.escape(a.id)}"]`);
    if (!li) {
      // A list item holding a real button (a list must hold list items;
      // the button brings Enter, Space and focus with it).
      li = ui.h("li", { class: "list-item is-clickable team-item", "data-asesor": a.id },
        ui.h("button", { type: "button", class: "team-pick", title: "Filtrar la tabla por este asesor", onclick: () => onPick(a.id) }));
    }
    li.dataset.status = a.status;
    li.classList.toggle("is-active", selected === a.id);
    const pick = li.querySelector(".team-pick");
    pick.setAttribute("aria-pressed", String(selected === a.id));
    pick.replaceChildren(
      ui.h("span", { class: ["avatar", `avatar-${a.status}`] }, ui.initials(a.nombre)),
      ui.h("div", { class: "grow" },
        ui.h("div", { class: "title" }, a.nombre),
        ui.h("div", { class: "sub" }, `${plural(a.derivados, "derivado", "derivados")} · ${a.enGestion} en gestión`),
        ui.h("div", { class: "load-bar", "aria-hidden": "true" },
          ui.h("span", { class: "load-derivado", style: { width: `${(a.derivados / max) * 100}%` } }),
          ui.h("span", { class: "load-gestion", style: { width: `${(a.enGestion / max) * 100}%` } }))),
      ui.h("div", { class: "stack load-side" }, ui.chip(`disp-${a.status}`, { label, kind }),
        ui.h("span", { class: "load-total num", title: "Leads activos (derivados + en gestión)" }, String(a.derivados + a.enGestion), ui.h("small", "activos"))));
    const want = prev ? prev.nextElementSibling : list.firstElementChild;
    if (want !== li) list.insertBefore(li, want);
    keep.add(li);
    prev = li;
  }
  for (const li of [...list.children]) if (!keep.has(li)) li.remove();
  if (!team.length) list.append(ui.h("li", { class: "list-item" }, ui.emptyState({ icon: "users", title: "Sin asesores", small: true })));
  const online = team.filter((a) => a.status !== "ausente").length;
  meta.textContent = `${online} de ${team.length} en línea`;
}
