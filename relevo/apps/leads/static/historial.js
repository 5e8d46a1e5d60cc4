// The asesor's own history: the leads they completed, newest first
// (GET /api/leads/mine/completed). A lead completed in another tab shows up
// at once: the asesor's channel announces it as it leaves their list.

import * as ui from "/static/ui/ui.js";
import { ASESOR_NAV, api, connect, errorText, getConfig, labels, offlineBanner, requireSession, topbar } from "./common.js";

const session = requireSession(["asesor"]);
if (session) main().catch((err) => ui.toast(err.message, { kind: "danger", title: "Error al cargar", timeout: 0 }));

async function main() {
  const config = await getConfig();
  const rv = connect(session, config);
  topbar(session, rv, { nav: ASESOR_NAV("/leads/historial") });
  offlineBanner(rv);
  ui.hydrateIcons();
  const tip = labels(config.tipificaciones);
  const res = labels(config.resultados);
  const table = ui.table(document.getElementById("table"), {
    caption: "Leads que completé",
    columns: [
      {
        label: "Cliente", primary: true, value: (r) => [r.nombre, r.telefono],
        render: (r) => ui.h("span", null, ui.h("span", { class: "cell-main" }, r.nombre), ui.h("span", { class: "cell-sub" }, [`#${r.id}`, r.telefono].filter(Boolean).join(" · "))),
      },
      {
        label: "Resultado", value: (r) => [r.tipificacion, r.resultado_contacto],
        render: (r) => ui.h("span", null, ui.h("span", { class: "cell-main-sm" }, tip[r.tipificacion] || r.tipificacion || "—"), ui.h("span", { class: "cell-sub" }, res[r.resultado_contacto] || "")),
      },
      { label: "Notas", className: "hide-phone", value: (r) => r.notas, render: (r) => ui.h("span", { class: "cell-sub notes-cell" }, r.notas || "—") },
      {
        label: "Completado", className: "nowrap", value: (r) => r.fecha_wizard_completado,
        render: (r) => ui.h("time", { datetime: new Date(r.fecha_wizard_completado || r.updated_at).toISOString() }, ui.fmtDateTime(r.fecha_wizard_completado || r.updated_at)),
      },
    ],
    rowAttrs: (r) => ({ "data-id": r.id }),
    empty: { icon: "check", title: "Aún no completaste leads", text: "Cuando termines una gestión aparecerá aquí." },
  });
  table.loading(4);

  async function load() {
    try {
      const { leads } = await api("/api/leads/mine/completed?limit=200");
      table.set(leads);
      ui.setBadge(document.getElementById("count"), leads.length);
      document.getElementById("meta").textContent = leads.length === 200 ? "Los 200 más recientes" : "";
    } catch (err) {
      ui.toast(errorText(err), { kind: "danger", title: "No se pudo cargar tu historial", timeout: 0 });
    }
  }
  let pending = null;
  const live = rv.live("lead", { asesor_id: session.user }, {
    onChange: (_all, change) => {
      if (change.type === "remove" && change.delta?.transition === "complete") {
        clearTimeout(pending); // a burst of completions reloads once
        pending = setTimeout(load, 150);
      }
    },
  });
  await Promise.all([load(), live.ready]);
  window.__leadsReady = true;
}
