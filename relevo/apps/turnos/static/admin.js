// The admin dashboard (/turnos/admin): today's figures, live. Pushed by the
// server as stats_actualizadas on turnos:stats after every change; and, as
// the seed did, fetched every 60 s — paused while the tab is hidden
// (relevo.poll) — so the page is right even if a push was missed.

import * as relevo from "/relevo.js";
import * as ui from "/static/ui/ui.js";
import { api, askToken, errorText, espera, loadConfig, reloadAtMidnight, staffToken } from "./common.js";

const $ = (id) => document.getElementById(id);
const POLL_MS = 60000;

const config = await loadConfig();
const shell = ui.shell({
  app: "Turnos",
  home: "/turnos/",
  nav: [
    { label: "Estadísticas", href: "/turnos/admin", current: true },
    { label: "Operador", href: "/turnos/operador" },
    { label: "Monitor", href: "/turnos/monitor" },
    { label: "Kiosco", href: "/turnos/kiosco" },
    { label: "Reportes", href: "/turnos/reportes" },
    { label: "Configuración", href: "/turnos/configuracion" },
  ],
  onLogout: () => auth.logout(),
});
ui.hydrateIcons();
reloadAtMidnight();

const auth = await staffToken("admin", config);
if (!auth.token) auth.token = await askToken($("login"), "admin");
const rv = relevo.connect({ token: auth.token, getToken: async () => (auth.token = await auth.refresh()) });
relevo.indicator(shell.conn, rv);
shell.setUser(auth.user());
$("dashboard").hidden = false;

const tramites = ui.table($("tramites"), {
  caption: "Estadísticas por trámite",
  compact: true,
  columns: [
    { key: "nombre", label: "Trámite", primary: true, render: (r) => [ui.h("span", { class: "tag" }, r.prefijo), " ", r.nombre] },
    { key: "en_espera", label: "En espera", className: "num" },
    { key: "promedio_s", label: "Promedio", className: "num nowrap", render: (r) => espera(r.promedio_s) },
    { key: "p90_s", label: "p90", className: "num nowrap", render: (r) => espera(r.p90_s) },
    { key: "finalizados", label: "Atendidos", className: "num" },
    { key: "no_presento", label: "No se presentaron", className: "num" },
  ],
  empty: { icon: "ticket", title: "Sin trámites", text: "Configúrelos en Configuración." },
});
const mesas = ui.table($("mesas"), {
  caption: "Estadísticas por mesa",
  compact: true,
  columns: [
    { key: "nombre", label: "Mesa", primary: true },
    { key: "actual", label: "Ahora", value: (r) => `${r.actual ? `${r.actual.numero_visible}:${r.actual.state}` : ""}:${r.pausa}:${r.pausa_motivo}`,
      render: (r) => [
        r.actual ? [ui.h("strong", { class: "num" }, r.actual.numero_visible), " ", ui.chip(r.actual.state)] : null,
        r.pausa ? [" ", ui.chip("pausa", { label: r.pausa_motivo ? `En pausa · ${r.pausa_motivo}` : "En pausa", kind: "warning" })] : null,
        !r.actual && !r.pausa ? ui.h("span", { class: "muted" }, r.activa === false ? "Cerrada" : "Libre") : null,
      ] },
    { key: "operador", label: "Operador", render: (r) => (r.operador ? ui.h("span", { title: `usuario ${r.operador_id}` }, r.operador) : ui.h("span", { class: "muted" }, "—")) },
    { key: "atendidos", label: "Atendidos", className: "num" },
    { key: "no_presento", label: "No se presentaron", className: "num" },
  ],
  empty: { icon: "users", title: "Sin mesas" },
});
tramites.loading(4);
mesas.loading(4);

let last = null; // {stats, timestamp}

function setKpi(id, value, foot) {
  const el = $(`v-${id}`);
  const text = String(value);
  if (el.textContent !== text) {
    el.textContent = text;
    if (last) ui.flash(el.closest(".stat"));
  }
  if (foot !== undefined) $(`f-${id}`).replaceChildren(foot);
}

function render(body, source) {
  if (last && body.timestamp < last.timestamp) return; // an older answer than what we show
  const s = body.stats;
  const t = s.totales;
  $("fecha").textContent = new Date(`${s.fecha}T12:00:00`).toLocaleDateString("es", { weekday: "long", day: "numeric", month: "long" });
  setKpi("en-espera", t.en_espera, s.espera_mas_antigua_at
    ? ui.h("span", "el primero llegó ", ui.h("time", { "data-ago": "", datetime: new Date(s.espera_mas_antigua_at).toISOString() }))
    : "nadie esperando");
  setKpi("promedio", espera(s.espera.promedio_s), s.espera.muestras === 1 ? "1 llamado hoy" : `${s.espera.muestras} llamados hoy`);
  setKpi("p90", espera(s.espera.p90_s));
  setKpi("atendidos", t.finalizado, `${t.atendiendo} en atención ahora · ${t.emitidos} emitidos`);
  setKpi("no-presento", t.no_presento, t.llamado === 1 ? "1 llamado aún sin presentarse"
    : t.llamado ? `${t.llamado} llamados aún sin presentarse` : "ningún llamado pendiente");
  tramites.set(s.tramites, { flash: !!last });
  mesas.set(s.mesas, { flash: !!last });
  last = body;
  $("updated").replaceChildren(`${source === "live" ? "en vivo" : "actualizado"} · `,
    ui.h("time", { "data-ago": "", datetime: new Date(body.timestamp).toISOString() }));
  document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
}
ui.tickTimes(document.body);

async function fetchStats() {
  try {
    render(await api("/api/turnos/stats", { token: auth.token }), "poll");
  } catch (err) {
    if (err.code === "unauthorized" || err.code === "token_expired") auth.token = await auth.refresh();
    $("updated").textContent = `sin actualizar: ${errorText(err)}`;
  }
}

rv.subscribe("turnos:stats", (pub) => pub.ev === "stats_actualizadas" && render(pub.data, "live"), {
  onReset: () => poller.now(), // pushes were lost (a restart): fetch the figures now
  onError: (err) => ui.toast(`No se pueden recibir las estadísticas en vivo: ${err.message}`, { kind: "danger" }),
});
const poller = relevo.poll(fetchStats, POLL_MS);
$("refrescar").onclick = () => poller.now();
ui.shortcuts({ r: { run: () => poller.now(), label: "Actualizar ahora" } });
document.body.dataset.ready = "true";
