// The kiosk (/turnos/kiosco): choose a trámite, say whether priority is
// needed, get a ticket with its number and how many people are ahead.
// Touch first: every choice is one big button. Anonymous by default; with
// [app.turnos] kiosk_role set it needs a token (#token=… once, kept for the tab).

import * as relevo from "/relevo.js";
import * as ui from "/static/ui/ui.js";
import { api, aproximado, clock, errorText, kioskToken, loadConfig, PRIORIDAD, reloadAtMidnight } from "./common.js";

const $ = (id) => document.getElementById(id);
const BACK_AFTER = 12; // seconds the ticket stays on screen

let config = await loadConfig();
ui.hydrateIcons();
clock($("clock"));
reloadAtMidnight();

const token = kioskToken();

// The kiosk listens to turnos:config so a trámite opened or closed shows at once.
const rv = relevo.connect(token ? { token } : {});
relevo.indicator($("conn"), rv);
rv.subscribe("turnos:config", async () => {
  config = await loadConfig();
  if (!$("paso-tramite").hidden) renderTramites();
});

let chosen = null;
let backTimer = null;

// Each step takes the focus (its title; the ticket's "Listo"), so a keyboard
// or a screen reader is never left on a control that has just been hidden.
const FOCUS = { "paso-tramite": "#paso-tramite h1", "paso-prioridad": "#prioridad-titulo", "paso-ticket": "#listo" };

function show(step) {
  for (const id of ["paso-tramite", "paso-prioridad", "paso-ticket"]) $(id).hidden = id !== step;
  const target = document.querySelector(FOCUS[step]);
  if (target.tagName === "H1") target.setAttribute("tabindex", "-1");
  target.focus({ preventScroll: false });
}

function renderTramites() {
  const active = config.tramites.filter((t) => t.activo !== false);
  const areas = config.areas.filter((a) => active.some((t) => t.area_id === a.id));
  $("tramites").replaceChildren(...areas.map((area) => ui.h("div", { class: "kiosk-area" },
    areas.length > 1 ? ui.h("h2", area.nombre) : null,
    ui.h("div", { class: "kiosk-grid" }, active.filter((t) => t.area_id === area.id).map((t) =>
      ui.h("button", { class: "btn btn-xl", type: "button", dataset: { tramite: t.id }, onclick: () => choose(t) },
        ui.h("span", { class: "kiosk-letter", "aria-hidden": "true" }, t.prefijo),
        ui.h("span", { class: "kiosk-choice-label" }, t.nombre)))))));
}

function choose(tramite) {
  chosen = tramite;
  $("nombre").value = "";
  $("prioridad-titulo").textContent = `${tramite.nombre}: ¿necesita atención prioritaria?`;
  $("prioridades").replaceChildren(
    ui.h("button", { class: "btn btn-primary btn-xl", type: "button", dataset: { prioridad: "no" }, onclick: (e) => emitir(e.currentTarget, null) },
      ui.h("span", { class: "kiosk-choice-label" }, "No, atención general")),
    ...Object.entries(PRIORIDAD).map(([value, label]) => ui.h("button", {
      class: "btn btn-xl", type: "button", dataset: { prioridad: value }, onclick: (e) => emitir(e.currentTarget, value),
    }, ui.h("span", { class: "kiosk-choice-label" }, label, ui.h("small", "Atención prioritaria")))),
  );
  show("paso-prioridad");
}

async function emitir(button, motivo) {
  const body = { tramite_id: chosen.id, persona_nombre: $("nombre").value.trim() || null };
  if (motivo) body.prioridad_motivo = motivo;
  try {
    const res = await ui.busy(button, api("/api/turnos/turnos", { method: "POST", body, token }));
    ticket(res);
  } catch (err) {
    ui.toast(errorText(err), { kind: err.code === "rate_limited" ? "warning" : "danger", title: "No se pudo sacar el turno" });
  }
}

function ticket({ turno, adelante, espera_estimada_s: estimada }) {
  // The estimate (docs/apps/turnos.md): people ahead × the area's recent service time ÷ its mesas in service.
  $("ticket-estimada").replaceChildren(estimada == null || adelante === 0 ? ""
    : ui.h("span", "Espera estimada: ", ui.h("strong", aproximado(estimada)), "."));
  $("ticket-numero").textContent = turno.numero_visible;
  $("ticket-tramite").textContent = turno.tramite_nombre;
  $("ticket-adelante").replaceChildren(adelante === 0
    ? "Usted es el próximo."
    : ui.h("span", adelante === 1 ? "Hay " : "Hay ", ui.h("strong", String(adelante)), adelante === 1 ? " persona antes que usted." : " personas antes que usted."));
  show("paso-ticket");
  let left = BACK_AFTER;
  const tick = () => {
    $("vuelve").textContent = `Esta pantalla vuelve al inicio en ${left} s.`;
    if (left-- <= 0) restart();
  };
  clearInterval(backTimer);
  tick();
  backTimer = setInterval(tick, 1000);
}

function restart() {
  clearInterval(backTimer);
  chosen = null;
  renderTramites();
  show("paso-tramite");
}

$("volver").onclick = restart;
$("listo").onclick = restart;
ui.shortcuts({ escape: { run: restart, label: "Volver al inicio" } });
restart();
document.body.dataset.ready = "true";
