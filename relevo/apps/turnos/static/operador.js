// The operator panel (/turnos/operador[?mesa=<id>]): a desk's live queue and
// its current turno. The queue is a relevo.js live collection of the area's
// open turnos (snapshot + deltas, nothing missed on reconnect); the actions
// go through the app API, which decides atomically who gets which turno.

import * as relevo from "/relevo.js";
import * as ui from "/static/ui/ui.js";
import { attention } from "/static/ui/attention.js";
import { api, askToken, errorText, espera, loadConfig, MOTIVO_FIN, MOTIVO_PAUSA, PRIORIDAD, reloadAtMidnight, staffToken } from "./common.js";

const $ = (id) => document.getElementById(id);
const config = await loadConfig();
const shell = ui.shell({
  app: "Turnos",
  home: "/turnos/",
  nav: [
    { label: "Operador", href: "/turnos/operador", current: true },
    { label: "Monitor", href: "/turnos/monitor" },
    { label: "Kiosco", href: "/turnos/kiosco" },
    { label: "Estadísticas", href: "/turnos/admin" },
    { label: "Reportes", href: "/turnos/reportes" },
    { label: "Configuración", href: "/turnos/configuracion" },
  ],
  onLogout: () => salirDelTodo(),
});
ui.hydrateIcons();
reloadAtMidnight();

let leaveMesa = async () => {}; // gives the mesa up, once a panel is open
async function salirDelTodo() {
  await leaveMesa().catch(() => {});
  localStorage.removeItem("turnos.mesa");
  auth.logout();
}

let auth = await staffToken("operador", config);
if (!auth.token) auth.token = await askToken($("login"), "operador");
const token = () => auth.token;
const rv = relevo.connect({ token: auth.token, getToken: async () => (auth.token = await auth.refresh()) });
relevo.indicator(shell.conn, rv);
shell.setUser(auth.user());
rv.on("state", (state, s) => {
  if (state === "disconnected" && ["unauthorized", "token_expired"].includes(s.reason)) {
    auth.forget();
    ui.toast("Su acceso venció. Recargue la página para ingresar de nuevo.", { kind: "danger", timeout: 0 });
  }
});

// Which mesa: the link's (?mesa=), else the signed-in operator's own (the demo
// login knows it), else the one this browser used last; ?elegir: pick one.
const params = new URLSearchParams(location.search);
const mesaParam = params.get("mesa") || (params.has("elegir") ? null : auth.session()?.mesa || localStorage.getItem("turnos.mesa"));
const mesa = config.mesas.find((m) => m.id === mesaParam && m.activa !== false);
if (!mesa) pickMesa();
else openPanel(mesa);

// -- choosing a mesa ------------------------------------------------------------------

function pickMesa() {
  $("elegir").hidden = false;
  const tramites = new Map(config.tramites.map((t) => [t.id, t]));
  const groups = config.areas.map((area) => {
    const mesas = config.mesas.filter((m) => m.area_id === area.id && m.activa !== false);
    if (!mesas.length) return null;
    return ui.h("section", { class: "stack", style: { marginBottom: "var(--s-5)" } },
      ui.h("h2", { class: "muted small" }, area.nombre),
      ui.h("div", { class: "mesa-picker" }, mesas.map((m) => ui.h("a", { class: "card tile", href: `?mesa=${encodeURIComponent(m.id)}`, dataset: { mesa: m.id } },
        ui.h("span", { class: "tile-title" }, m.nombre),
        ui.h("span", { class: "tile-text" }, m.tramites.map((t) => tramites.get(t)?.nombre || t).join(" · "))))));
  });
  $("mesas").replaceChildren(...groups.filter(Boolean));
  document.body.dataset.ready = "true";
}

// -- the panel -----------------------------------------------------------------------------

function openPanel(mesa) {
  localStorage.setItem("turnos.mesa", mesa.id);
  document.title = `Turnos · ${mesa.nombre}`;
  $("panel").hidden = false;
  $("mesa-nombre").textContent = mesa.nombre;
  const tramites = config.tramites.filter((t) => mesa.tramites.includes(t.id));
  $("mesa-tramites").textContent = `${config.areas.find((a) => a.id === mesa.area_id)?.nombre || ""} · ${tramites.map((t) => `${t.prefijo} ${t.nombre}`).join(" · ")}`;
  const salir = async () => {
    localStorage.removeItem("turnos.mesa");
    await cerrar().catch(() => {});
    location.href = "/turnos/operador?elegir";
  };
  $("cambiar").onclick = salir;
  $("ocupada-otra").onclick = salir;
  $("ocupada-reintentar").onclick = () => abrir();
  $("atajos").onclick = () => ui.showHelp();
  $("motivo").replaceChildren(...Object.entries(MOTIVO_FIN).map(([v, l]) => ui.h("option", { value: v }, l)));

  const serves = new Set(mesa.tramites);
  // This mesa's queue: its trámites, less those sent to one other mesa, plus those sent here.
  const mine = (r) => (r.mesa_destino ? r.mesa_destino === mesa.id : serves.has(r.tramite_id));
  const aviso = attention({
    key: `turnos.operador.${auth.session()?.user || "anon"}`,
    what: "un turno nuevo a la cola de esta mesa",
    id: "avisos",
  });
  $("avisos-slot").replaceWith(aviso.button);
  const byArrival = (a, b) => (b.prioridad || 0) - (a.prioridad || 0) || a.created_at - b.created_at || Number(a.id) - Number(b.id);
  const cola = ui.table($("cola"), {
    caption: "Turnos en espera",
    compact: true,
    sort: byArrival,
    columns: [
      { key: "numero_visible", label: "Número", primary: true, render: (r) => ui.h("strong", { class: "num" }, r.numero_visible) },
      { key: "tramite_nombre", label: "Trámite", render: (r) => (r.mesa_destino ? [r.tramite_nombre, " ", ui.h("span", { class: "tag" }, "Transferido aquí")] : r.tramite_nombre) },
      { key: "prioridad", label: "Prioridad", render: (r) => (r.prioridad ? ui.h("span", { class: "prio" }, "Prioritario") : ui.h("span", { class: "muted" }, "—")) },
      { key: "created_at", label: "Espera", className: "nowrap", flash: false, render: (r) => ui.h("time", { "data-ago": "", datetime: new Date(r.created_at).toISOString() }) },
    ],
    empty: { icon: "ticket", title: "Nadie en espera", text: "Los turnos nuevos aparecen aquí al instante." },
  });
  cola.loading(4);
  ui.tickTimes($("cola"));

  let current = null; // the mesa's turno (llamado / atendiendo), with the person's name
  let rows = new Map();

  const live = rv.live("turno", { area_id: mesa.area_id, fecha: config.hoy, state: ["en_espera", "llamado", "atendiendo"] }, {
    onChange: (all, change) => {
      rows = all;
      const waiting = [...all.values()].filter((r) => r.state === "en_espera" && mine(r));
      const before = new Set(cola.rows().map((r) => r.id));
      cola.set(waiting, { flash: change.type !== "snapshot" });
      renderCounts(waiting);
      aviso.count(waiting.length);
      syncCurrent(change);
      const nuevos = change.type === "snapshot" ? [] : waiting.filter((r) => !before.has(r.id));
      if (nuevos.length) {
        const nums = nuevos.map((r) => r.numero_visible).join(", ");
        ui.announce(`Nuevo turno en espera: ${nums}`);
        aviso.notify(`Nuevo turno en ${mesa.nombre}: ${nums}`, `${waiting.length} en espera · ${nuevos[0].tramite_nombre}`, { tag: `turnos-${mesa.id}` });
      }
    },
    onError: (err) => ui.toast(err.message || "No se pudo cargar la cola.", { kind: "danger" }),
  });

  function renderCounts(waiting) {
    ui.setBadge($("cola-count"), waiting.length);
    $("cola-counts").replaceChildren(...tramites.map((t) => {
      const n = waiting.filter((r) => r.tramite_id === t.id).length;
      return ui.h("span", { class: "tag", title: t.nombre }, `${t.prefijo} · ${n}`);
    }));
  }

  /** Follow the mesa's turno from the live rows; fetch its name when it changes. */
  function syncCurrent(change) {
    const mine = [...rows.values()].filter((r) => r.mesa_id === mesa.id && (r.state === "llamado" || r.state === "atendiendo"));
    mine.sort((a, b) => (b.llamado_at || 0) - (a.llamado_at || 0));
    const row = mine[0] || null;
    if (change && change.type === "remove" && current && change.id === current.id) {
      const d = change.delta || {};
      if (d.to === "no_presento" && d.by === "system") {
        ui.toast(`${current.numero_visible} no se presentó: pasó el tiempo de espera.`, { kind: "warning", title: "Turno cerrado" });
      }
    }
    if (!row) return setCurrent(null);
    if (current && current.id === row.id) return setCurrent({ ...current, ...row });
    setCurrent(row);
    api(`/api/turnos/turnos/${encodeURIComponent(row.id)}`, { token: token() })
      .then((res) => { if (current && current.id === res.turno.id && res.turno.version >= current.version) setCurrent(res.turno); })
      .catch(() => {});
  }

  function setCurrent(turno) {
    const changed = (current && current.id) !== (turno && turno.id) || (current && current.state) !== (turno && turno.state);
    current = turno;
    const body = $("actual-body");
    $("actual").dataset.state = turno ? turno.state : "";
    $("actual-chip").replaceChildren(turno ? ui.chip(turno.state) : "");
    if (!turno) {
      body.replaceChildren(ui.emptyState({ icon: "ticket", title: "Mesa libre",
        text: "Pulse «Llamar siguiente» (N) para llamar al próximo turno de la cola." }));
    } else {
      const deadline = turno.state === "llamado" && turno.llamado_at ? turno.llamado_at + config.no_show_seconds * 1000 : null;
      ui.replace(body,
        ui.h("div", { class: "actual-numero", id: "actual-numero" }, turno.numero_visible),
        turno.persona_nombre ? ui.h("div", { class: "actual-persona" }, turno.persona_nombre) : null,
        ui.h("div", { class: "actual-meta" },
          ui.h("span", turno.tramite_nombre),
          turno.prioridad ? ui.h("span", { class: "prio" }, `Prioritario${turno.prioridad_motivo ? ` · ${PRIORIDAD[turno.prioridad_motivo] || ""}` : ""}`) : null,
          turno.llamadas > 1 ? ui.h("span", `Llamado ${turno.llamadas} veces`) : null,
          deadline ? ui.h("span", "Sin presentarse en ", ui.h("span", { "data-countdown": String(deadline), "data-warn": "60" })) : null,
          turno.state === "atendiendo" && turno.atendiendo_at ? ui.h("span", "En atención desde ", ui.h("time", { "data-ago": "", datetime: new Date(turno.atendiendo_at).toISOString() })) : null));
      ui.tickTimes(body);
    }
    if (changed) ui.flash($("actual"));
    const s = turno ? turno.state : null;
    $("btn-siguiente").disabled = !!turno || pausada;
    $("btn-transferir").disabled = !turno;
    $("btn-rellamar").disabled = s !== "llamado";
    $("btn-atender").disabled = s !== "llamado";
    $("btn-no-presento").disabled = s !== "llamado";
    $("btn-finalizar").disabled = s !== "atendiendo";
    $("motivo").disabled = s !== "atendiendo";
    keepFocus();
  }
  // Keyboard users: an action that disables its own button (or a change that
  // arrives live) must not drop the focus on <body>; it moves to what comes next.
  let acting = false;
  function keepFocus() {
    const a = document.activeElement;
    const lost = !a || a === document.body || a.disabled;
    if (!lost || !(acting || (a && a.closest && a.closest("#panel")))) return;
    const s = current ? current.state : null;
    const next = $({ llamado: "btn-atender", atendiendo: "btn-finalizar" }[s] || "btn-siguiente");
    if (next && !next.disabled) next.focus();
  }
  // -- a break: "Llamar siguiente" waits until the mesa resumes -----------------------
  let pausada = false;
  function setPausa(m) {
    pausada = !!m.pausa;
    $("pausa").hidden = !pausada;
    $("btn-pausa").hidden = pausada;
    $("panel").dataset.pausa = String(pausada);
    if (pausada) {
      const desde = m.pausa_desde ? ` desde las ${ui.fmtTime(m.pausa_desde)}` : "";
      $("pausa-texto").textContent = `Mesa en pausa${m.pausa_motivo ? ` · ${m.pausa_motivo}` : ""}${desde}`;
    }
    $("btn-siguiente").disabled = !!current || pausada;
  }
  setPausa(mesa);
  rv.subscribe("turnos:config", (pub) => {
    const d = pub.data;
    if (d && d.kind === "mesa" && String(d.id) === mesa.id && d.record) setPausa(d.record);
  });
  async function pausar() {
    if (pausada) return;
    const select = ui.h("select", { class: "select", id: "pausa-motivo" },
      Object.values(MOTIVO_PAUSA).map((l) => ui.h("option", { value: l }, l)));
    const d = ui.dialog({
      name: "turnos-pause",
      title: `Pausa en ${mesa.nombre}`,
      body: ui.h("div", { class: "field" }, ui.h("label", { for: "pausa-motivo" }, "Motivo"), select,
        ui.h("div", { class: "hint" }, "Mientras dure la pausa no se le llamarán turnos. El turno actual, si hay uno, sigue en su mesa.")),
      actions: [{ label: "Cancelar", value: false }, { label: "Iniciar pausa", kind: "primary", value: true }],
    });
    select.focus();
    if (!(await d.result)) return $("btn-pausa").focus();
    try {
      const res = await api(`${mesaPath}/pausa`, { method: "POST", body: { motivo: select.value }, token: token() });
      setPausa(res.mesa);
      ui.announce("Mesa en pausa");
      $("btn-reanudar").focus();
    } catch (err) {
      ui.toast(errorText(err), { kind: "danger" });
    }
  }
  async function reanudar() {
    try {
      const res = await ui.busy($("btn-reanudar"), api(`${mesaPath}/reanudar`, { method: "POST", token: token() }));
      setPausa(res.mesa);
      ui.announce("Mesa disponible de nuevo");
      $("btn-siguiente").focus();
    } catch (err) {
      ui.toast(errorText(err), { kind: "danger" });
    }
  }
  $("btn-pausa").onclick = pausar;
  $("btn-reanudar").onclick = reanudar;

  // -- transfer the turno at the desk to another mesa or trámite -----------------------
  async function transferir() {
    if (!current) return;
    const t = current;
    const select = ui.h("select", { class: "select", id: "transferir-destino" },
      ui.h("optgroup", { label: "A una mesa" }, config.mesas.filter((m) => m.id !== mesa.id && m.activa !== false)
        .map((m) => ui.h("option", { value: `mesa:${m.id}` }, m.nombre))),
      config.areas.map((a) => ui.h("optgroup", { label: `Trámites · ${a.nombre}` }, config.tramites
        .filter((x) => x.area_id === a.id && x.activo !== false)
        .map((x) => ui.h("option", { value: `tramite:${x.id}` }, `${x.prefijo} · ${x.nombre}`)))));
    const d = ui.dialog({
      name: "turnos-transfer",
      title: `Transferir ${t.numero_visible}`,
      body: ui.h("div", { class: "field" }, ui.h("label", { for: "transferir-destino" }, "Destino"), select,
        ui.h("div", { class: "hint" }, "Vuelve a la espera con el mismo número y prioridad, antes de quienes llegaron después.")),
      actions: [{ label: "Cancelar", value: false }, { label: "Transferir", kind: "primary", value: true }],
    });
    select.focus();
    if (!(await d.result)) return $("btn-transferir").focus();
    const [tipo, id] = select.value.split(/:(.*)/s);
    const body = tipo === "mesa" ? { mesa_id: id } : { tramite_id: id };
    try {
      const res = await api(`/api/turnos/turnos/${encodeURIComponent(t.id)}/transferir`, { method: "POST", body, token: token() });
      setCurrent(null);
      ui.toast(`${t.numero_visible} transferido a ${select.selectedOptions[0].textContent}.`, { kind: "success" });
      ui.announce(`${res.turno.numero_visible} transferido`);
      $("btn-siguiente").focus();
    } catch (err) {
      ui.toast(errorText(err), { kind: "danger" });
    }
  }
  $("btn-transferir").onclick = transferir;

  setCurrent(null);

  // One operator per mesa: take it now, renew it every 30 s (the server lets
  // it go 90 s after the last renewal, or at once when this user's last tab
  // closes), give it up on leaving the panel.
  const mesaPath = `/api/turnos/mesas/${encodeURIComponent(mesa.id)}`;
  let tengo = false;
  async function abrir() {
    try {
      await api(`${mesaPath}/abrir`, { method: "POST", token: token() });
      tengo = true;
      $("ocupada").hidden = true;
    } catch (err) {
      if (err.code !== "locked") return; // offline: the next renewal tries again
      tengo = false;
      $("ocupada-texto").textContent = errorText(err);
      $("ocupada").hidden = false;
    }
  }
  const cerrar = () => (tengo ? api(`${mesaPath}/cerrar`, { method: "POST", token: token() }) : Promise.resolve());
  leaveMesa = cerrar;
  abrir();
  setInterval(abrir, 30_000);
  addEventListener("pagehide", () => {
    if (tengo) fetch(`${mesaPath}/cerrar`, { method: "POST", keepalive: true, headers: { Authorization: `Bearer ${token()}` } });
  });

  api(`/api/turnos/mesas/${encodeURIComponent(mesa.id)}/actual`, { token: token() }).then((r) => r.turno && setCurrent(r.turno)).catch(() => {});

  async function act(button, path, body, done) {
    if (button.disabled) return;
    acting = document.activeElement === button || document.activeElement === document.body;
    try {
      const res = await ui.busy(button, api(path, { method: "POST", body, token: token() }));
      if (res.turno && res.turno.version >= ((current && current.id === res.turno.id && current.version) || 0)) {
        setCurrent(["llamado", "atendiendo"].includes(res.turno.state) ? res.turno : null);
      }
      if (done) done(res);
    } catch (err) {
      ui.toast(errorText(err), { kind: err.code === "conflict" ? "warning" : "danger" });
    } finally {
      keepFocus();
      acting = false;
    }
  }
  const onTurno = (accion, extra = {}) => () => current && act($(`btn-${accion.replace("_", "-")}`),
    `/api/turnos/turnos/${encodeURIComponent(current.id)}/${accion}`, { mesa_id: mesa.id, ...extra });

  const siguiente = () => act($("btn-siguiente"), `/api/turnos/mesas/${encodeURIComponent(mesa.id)}/siguiente`, {}, (res) => {
    if (res.turno) ui.announce(`Llamando ${res.turno.numero_visible}`);
    else ui.toast("No hay turnos en espera para esta mesa.", { kind: "info" });
  });
  const rellamar = onTurno("rellamar");
  const atender = onTurno("atender");
  const finalizar = () => onTurno("finalizar", { motivo: $("motivo").value })();
  const noPresento = onTurno("no_presento");

  $("btn-siguiente").onclick = siguiente;
  $("btn-rellamar").onclick = rellamar;
  $("btn-atender").onclick = atender;
  $("btn-finalizar").onclick = finalizar;
  $("btn-no-presento").onclick = noPresento;
  ui.shortcuts({
    n: { run: siguiente, label: "Llamar al siguiente turno" },
    r: { run: rellamar, label: "Rellamar al turno actual" },
    a: { run: atender, label: "Empezar a atender al turno actual" },
    f: { run: finalizar, label: "Finalizar la atención (con el motivo elegido)" },
    x: { run: noPresento, label: "Marcar que no se presentó" },
    t: { run: transferir, label: "Transferir el turno actual a otra mesa o trámite" },
    p: { run: () => (pausada ? reanudar() : pausar()), label: "Pausa / reanudar la mesa" },
  });
  live.ready.then(() => { document.body.dataset.ready = "true"; });
}
