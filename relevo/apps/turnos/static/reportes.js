// Reports (/turnos/reportes, supervisors): a range of days → tickets, average
// wait and service per area, mesa, operator and day (GET /api/turnos/reportes),
// a bar chart of the areas drawn here as SVG (no library), and the same
// figures as CSV (GET /api/turnos/reportes.csv, fetched with the token and
// saved through a blob link: the token never goes in a URL).

import * as relevo from "/relevo.js";
import * as ui from "/static/ui/ui.js";
import { api, askToken, errorText, espera, loadConfig, staffToken } from "./common.js";

const $ = (id) => document.getElementById(id);
const config = await loadConfig();
const shell = ui.shell({
  app: "Turnos",
  home: "/turnos/",
  nav: [
    { label: "Estadísticas", href: "/turnos/admin" },
    { label: "Reportes", href: "/turnos/reportes", current: true },
    { label: "Configuración", href: "/turnos/configuracion" },
    { label: "Operador", href: "/turnos/operador" },
    { label: "Monitor", href: "/turnos/monitor" },
    { label: "Kiosco", href: "/turnos/kiosco" },
  ],
  onLogout: () => auth.logout(),
});
ui.hydrateIcons();

const auth = await staffToken("admin", config);
if (!auth.token) auth.token = await askToken($("login"), "admin");
const rv = relevo.connect({ token: auth.token, getToken: async () => (auth.token = await auth.refresh()) });
relevo.indicator(shell.conn, rv);
shell.setUser(auth.user());
$("reportes").hidden = false;

// Default range: the last 7 days up to today (the server's "today").
const hoy = config.hoy;
const back = (iso, days) => { const d = new Date(`${iso}T12:00:00Z`); d.setUTCDate(d.getUTCDate() - days); return d.toISOString().slice(0, 10); };
$("desde").value = back(hoy, 6);
$("hasta").value = hoy;
$("desde").max = $("hasta").max = hoy;

const cols = (first, extra = []) => [
  first, ...extra,
  { key: "atendidos", label: "Atendidos", className: "num" },
  { key: "no_presento", label: "No se presentaron", className: "num" },
  { key: "atencion_promedio_s", label: "Atención prom.", className: "num nowrap", render: (r) => espera(r.atencion_promedio_s) },
];
const withTickets = [
  { key: "emitidos", label: "Turnos", className: "num" },
  { key: "espera_promedio_s", label: "Espera prom.", className: "num nowrap", render: (r) => espera(r.espera_promedio_s) },
];
const tables = {
  areas: ui.table($("areas"), { caption: "Reporte por área", compact: true, columns: cols({ key: "nombre", label: "Área", primary: true }, withTickets), empty: { icon: "apps", title: "Sin áreas" } }),
  mesas: ui.table($("mesas"), { caption: "Reporte por mesa", compact: true, columns: cols({ key: "nombre", label: "Mesa", primary: true }), empty: { icon: "users", title: "Sin mesas" } }),
  operadores: ui.table($("operadores"), { caption: "Reporte por operador", compact: true, columns: cols({ key: "nombre", label: "Operador", primary: true }), empty: { icon: "user", title: "Nadie atendió en estas fechas" } }),
  dias: ui.table($("dias"), { caption: "Reporte por día", compact: true, key: "fecha", columns: cols({ key: "fecha", label: "Día", primary: true, render: (r) => ui.fmtDate(`${r.fecha}T12:00:00`) }, withTickets), empty: { icon: "clock", title: "Sin turnos en estas fechas" } }),
};

const query = () => `desde=${encodeURIComponent($("desde").value)}&hasta=${encodeURIComponent($("hasta").value)}`;
function fail(err) {
  $("error").textContent = errorText(err);
  $("error").hidden = false;
}

async function load() {
  $("error").hidden = true;
  try {
    const rep = await ui.busy($("ver"), api(`/api/turnos/reportes?${query()}`, { token: auth.token }));
    for (const [key, tbl] of Object.entries(tables)) tbl.set(rep[key]);
    $("rango").textContent = rep.desde === rep.hasta ? ui.fmtDate(`${rep.desde}T12:00:00`) : `${ui.fmtDate(`${rep.desde}T12:00:00`)} – ${ui.fmtDate(`${rep.hasta}T12:00:00`)}`;
    chart($("grafico"), rep.areas);
    document.body.dataset.reports = String(Number(document.body.dataset.reports || 0) + 1);
  } catch (err) {
    fail(err);
  }
}

/** Grouped horizontal bars, one pair per area (wait, service), scaled to the longest. */
function chart(box, areas) {
  const rows = areas.filter((a) => a.espera_promedio_s != null || a.atencion_promedio_s != null);
  if (!rows.length) return box.replaceChildren(ui.emptyState({ icon: "gauge", title: "Sin datos para graficar", text: "No hubo turnos atendidos en estas fechas.", small: true }));
  const W = 640, label = 170, bar = 14, gap = 4, group = bar * 2 + gap + 18, H = rows.length * group + 8;
  const max = Math.max(...rows.flatMap((a) => [a.espera_promedio_s || 0, a.atencion_promedio_s || 0]), 1);
  const scale = (v) => ((W - label - 90) * (v || 0)) / max;
  const svg = ui.h("svg:svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": "grafico-titulo" },
    ui.h("svg:title", { id: "grafico-titulo" }, `Espera y atención promedio por área: ${rows.map((a) => `${a.nombre}, espera ${espera(a.espera_promedio_s)}, atención ${espera(a.atencion_promedio_s)}`).join("; ")}`));
  rows.forEach((a, i) => {
    const y = 4 + i * group;
    svg.append(ui.h("svg:text", { x: 0, y: y + bar + 2 }, a.nombre.length > 24 ? `${a.nombre.slice(0, 23)}…` : a.nombre));
    [["espera", a.espera_promedio_s, 0], ["atencion", a.atencion_promedio_s, bar + gap]].forEach(([kind, v, dy]) => {
      const w = Math.max(v ? 2 : 0, scale(v));
      svg.append(
        ui.h("svg:rect", { class: `bar-${kind}`, x: label, y: y + dy, width: w.toFixed(1), height: bar, rx: 2, dataset: { area: a.id, kind } }),
        ui.h("svg:text", { x: label + w + 6, y: y + dy + bar - 3 }, espera(v)));
    });
  });
  box.replaceChildren(svg);
}

async function exportCsv() {
  $("error").hidden = true;
  try {
    const res = await ui.busy($("csv"), fetch(`/api/turnos/reportes.csv?${query()}`, { headers: { Authorization: `Bearer ${auth.token}` } }));
    if (!res.ok) {
      const body = await res.json().catch(() => ({}));
      throw Object.assign(new Error(body.message || res.statusText), body);
    }
    const url = URL.createObjectURL(await res.blob());
    const name = /filename="([^"]+)"/.exec(res.headers.get("content-disposition") || "")?.[1] || "turnos.csv";
    const a = ui.h("a", { href: url, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (err) {
    fail(err);
  }
}

$("filtros").addEventListener("submit", (e) => { e.preventDefault(); load(); });
$("csv").onclick = exportCsv;
await load();
document.body.dataset.ready = "true";
