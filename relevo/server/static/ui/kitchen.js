import * as ui from "/static/ui/ui.js";

ui.hydrateIcons();

const now = Date.now();
const min = 60_000;
const names = [
  ["Rosa Quispe", "987 654 321", "Carlos Ruiz", "en_gestion", 2],
  ["Jorge Salazar", "945 112 908", "Lucía Gómez", "derivado", 1],
  ["Inversiones Lima SAC", "01 445 2210", "", "nuevo", 0],
  ["Patricia Núñez", "956 300 771", "Carlos Ruiz", "terminado", 14],
  ["Miguel Ángel Torres", "912 004 556", "Diego Paredes", "no_gestionado", 6],
  ["Carmen Villanueva", "999 231 870", "Lucía Gómez", "en_gestion", 4],
];
let rows = names.map(([cliente, telefono, asesor, estado, ago], i) => ({
  id: 1040 + i, cliente, telefono, asesor, estado,
  actividad: now - ago * min - 20_000,
  vence: estado === "en_gestion" || estado === "derivado" ? now + (5 - ago) * min - 20_000 : null,
}));

const table = ui.table(document.getElementById("k-table"), {
  caption: "Leads de hoy",
  columns: [
    { key: "id", label: "#", className: "mono muted small hide-phone", width: "64px" },
    { key: "cliente", label: "Cliente", primary: true, render: (r) => ui.h("span", null, ui.h("span", { class: "cell-main" }, r.cliente), ui.h("span", { class: "cell-sub" }, r.telefono)) , value: (r) => [r.cliente, r.telefono] },
    { key: "asesor", label: "Asesor", render: (r) => r.asesor || ui.h("span", { class: "muted" }, "Sin asignar") },
    { key: "estado", label: "Estado", render: (r) => ui.chip(r.estado) },
    { key: "actividad", label: "Última actividad", className: "muted nowrap", flash: false, render: (r) => ui.h("time", { "data-ago": "", datetime: new Date(r.actividad).toISOString() }, ui.timeAgo(r.actividad)) },
    { key: "vence", label: "Vuelve al GTR en", className: "num", render: (r) => r.vence ? ui.h("span", { "data-countdown": String(r.vence), "data-warn": "60" }, ui.countdown(r.vence)) : ui.h("span", { class: "muted" }, "—") },
    { label: "", className: "actions-cell", value: (r) => r.estado, render: (r) => ui.h("button", { class: "btn btn-sm", type: "button" }, r.estado === "nuevo" ? "Derivar" : "Ver") },
  ],
  empty: { icon: "inbox", title: "No hay leads", text: "Los leads nuevos aparecen aquí al instante." },
  onRowClick: (r) => openLead(r),
});
table.set(rows);
ui.setBadge(document.getElementById("k-count"), rows.length);

ui.segmented(document.getElementById("k-seg"), (value) => { filterState = value; applyFilter(); });
let filterState = "";
const search = document.getElementById("k-search");
const applyFilter = () => {
  const q = search.value.trim().toLowerCase();
  table.filter((r) => (!filterState || r.estado === filterState) && (!q || `${r.cliente} ${r.telefono}`.toLowerCase().includes(q)));
};
search.addEventListener("input", applyFilter);

const order = ["nuevo", "derivado", "en_gestion", "terminado"];
function simulate() {
  const r = rows[Math.floor(Math.random() * rows.length)];
  const next = order[(order.indexOf(r.estado) + 1) % order.length] || "derivado";
  const updated = { ...r, estado: next, asesor: r.asesor || "Lucía Gómez", actividad: Date.now(), vence: next === "derivado" || next === "en_gestion" ? Date.now() + 5 * min : null };
  rows = rows.map((x) => (x.id === r.id ? updated : x));
  ui.liveUpdate(table, updated, `Lead ${r.id} pasó a ${ui.statusLabel(next)}`);
  ui.toast(`${r.cliente} pasó a ${ui.statusLabel(next)}.`, { kind: "info", title: `Lead #${r.id}` });
}
document.getElementById("k-live").addEventListener("click", simulate);

function openLead(r) {
  table.select(r.id);
  ui.drawer({
    name: "kitchen-drawer",
    title: r.cliente,
    onClose: () => table.select(null),
    body: ui.h("dl", { class: "dl" },
      ui.h("dt", "Estado"), ui.h("dd", ui.chip(r.estado)),
      ui.h("dt", "Teléfono"), ui.h("dd", r.telefono),
      ui.h("dt", "Asesor"), ui.h("dd", r.asesor || "Sin asignar"),
      ui.h("dt", "Actividad"), ui.h("dd", ui.h("time", { "data-ago": "", datetime: new Date(r.actividad).toISOString() }))),
    footer: [ui.h("button", { class: "btn btn-primary", type: "button" }, "Derivar"), ui.h("button", { class: "btn", type: "button" }, "Historial")],
  });
}

const chips = document.getElementById("k-chips");
for (const [s, o] of [["ok", { label: "Correcto", kind: "success" }], ["i", { label: "Info", kind: "info" }], ["w", { label: "Aviso", kind: "warning" }], ["d", { label: "Error", kind: "danger" }], ["n", { label: "Neutro", kind: "neutral" }]]) chips.append(ui.chip(s, o));
for (const s of ["llamado", "atendiendo", "no_show", "qr", "authenticated"]) chips.append(ui.chip(s));

document.getElementById("k-spark").replaceWith(ui.sparkline([3, 5, 4, 8, 6, 9, 7, 12, 10, 14, 11, 15, 13, 14]));
document.getElementById("k-alert-cd").dataset.countdown = String(Date.now() + 58_000);
document.getElementById("k-t1").setAttribute("datetime", new Date(now - 40_000).toISOString());
document.getElementById("k-t2").setAttribute("datetime", new Date(now - 12 * min).toISOString());
document.getElementById("k-t3").setAttribute("datetime", new Date(now - 3 * 60 * min).toISOString());
document.getElementById("k-clock").textContent = ui.fmtTime(now);
ui.tickTimes();

document.getElementById("k-p2").append(ui.emptyState({ icon: "message", title: "Sin conversaciones", text: "Cuando llegue un mensaje de WhatsApp aparecerá aquí.", action: { label: "Conectar WhatsApp", kind: "primary", run: () => {} } }));
ui.tabs(document.getElementById("k-tabs"));

const swatches = document.getElementById("k-swatches");
for (const v of ["primary", "success", "info", "warning", "danger", "neutral", "text", "text-2", "border", "bg"]) {
  swatches.append(ui.h("div", { class: "swatch" }, ui.h("span", { style: { background: `var(--${v})` } }), ui.h("div", null, `--${v}`)));
}

document.getElementById("k-toast-s").addEventListener("click", () => ui.toast("Lead derivado a Carlos Ruiz.", { kind: "success" }));
document.getElementById("k-toast-d").addEventListener("click", () => ui.toast("El lead está bloqueado por otro asesor.", { kind: "danger", title: "No se pudo abrir" }));
document.getElementById("k-drawer").addEventListener("click", () => openLead(rows[0]));
document.getElementById("k-dialog").addEventListener("click", () => ui.dialog({ name: "kitchen-dialog", title: "Reasignar lead", body: "El lead pasará a otro asesor y el actual dejará de verlo.", actions: [{ label: "Cancelar" }, { label: "Reasignar", kind: "primary", value: true }] }));
document.getElementById("k-confirm").addEventListener("click", async () => {
  if (await ui.confirm({ name: "kitchen-confirm", title: "¿Liberar el lead?", message: "Volverá a la bandeja del GTR.", confirmLabel: "Liberar", danger: true })) ui.toast("Lead liberado.", { kind: "success" });
});
document.getElementById("k-help").addEventListener("click", () => ui.showHelp());
document.getElementById("k-new").addEventListener("click", () => ui.prompt({ name: "kitchen-prompt", title: "Nuevo lead", label: "Nombre del cliente", confirmLabel: "Crear" }).then((v) => v && ui.toast(`Lead «${v}» creado.`, { kind: "success" })));

ui.shortcuts({
  "/": ui.focusSearch("#k-search"),
  n: { run: () => document.getElementById("k-new").click(), label: "Nuevo lead" },
  l: { run: simulate, label: "Simular un cambio en vivo" },
});

// the screenshot shows one live change and a toast
if (new URLSearchParams(location.search).has("demo")) {
  setTimeout(() => {
    const r = rows[1];
    const updated = { ...r, estado: "en_gestion", actividad: Date.now(), vence: Date.now() + 5 * min };
    rows = rows.map((x) => (x.id === r.id ? updated : x));
    ui.liveUpdate(table, updated, `Lead ${r.id} pasó a En gestión`);
    ui.toast(`${r.cliente} pasó a En gestión.`, { kind: "info", title: `Lead #${r.id}`, timeout: 0 });
  }, 150);
}
window.__kitchenReady = true;
