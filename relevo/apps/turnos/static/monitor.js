// The public monitor (/turnos/monitor[?area=<id>]): anonymous and read-only.
// It starts from GET /api/turnos/monitor (the last calls, no names) and then
// follows the turnos:monitor channel from that snapshot's position, so a
// reconnect — after a dropped network or a server restart — shows every call
// made while it was away: replayed from history, or reloaded when the
// history is gone. Each call: big number → mesa, a highlight and a chime.

import * as relevo from "/relevo.js";
import { apiRetry, aproximado, audioReady, chime, clock, loadConfig, reloadAtMidnight, unlockAudio } from "./common.js";

const $ = (id) => document.getElementById(id);
const area = new URLSearchParams(location.search).get("area") || "";
const LABEL = { llamado: "Llamando", atendiendo: "En atención", no_presento: "No se presentó", finalizado: "" };

const config = await loadConfig();
const N = config.monitor_last;
const areaInfo = config.areas.find((a) => a.id === area);
if (areaInfo) $("area-nombre").textContent = `· ${areaInfo.nombre}`;
clock($("clock"));
reloadAtMidnight();

const rv = relevo.connect();
relevo.indicator($("conn"), rv);

const entries = new Map(); // turno id → what the wall shows of it
let waiting = {}; // area id → turnos en espera
let buffer = null; // publications that arrive while a snapshot loads
let calls = 0;
let estimacion = {}; // area id → {servicio_s, mesas}: the pace (docs/apps/turnos.md)
let pausas = []; // ids of the mesas on a break

function pick(rec) {
  return {
    id: String(rec.id), version: rec.version, state: rec.state, numero_visible: rec.numero_visible,
    mesa_nombre: rec.mesa_nombre, area_id: rec.area_id, llamado_at: rec.llamado_at, llamadas: rec.llamadas,
  };
}

let loads = 0;
let newestShown = 0; // llamado_at of the latest call this wall has shown

async function load() {
  buffer = [];
  const snap = await apiRetry("/api/turnos/monitor");
  entries.clear();
  for (const row of snap.llamados) if (!area || row.area_id === area) entries.set(String(row.id), pick(row));
  waiting = { ...snap.en_espera };
  setPace(snap);
  const pending = buffer;
  buffer = null;
  for (const pub of pending) if (pub.off > snap.offset) apply(pub, false);
  // After a reload (the history was gone), a call made while away still gets
  // its highlight and chime; the first load of the page stays quiet.
  const top = standing(latest());
  render(loads && top && top.state === "llamado" && top.llamado_at > newestShown ? top.id : null);
  document.body.dataset.loads = String(++loads);
  return snap;
}

function onPublication(pub) {
  if (buffer) buffer.push(pub);
  else apply(pub, true);
}

function apply(pub, live) {
  const d = pub.data;
  if (!d || d.kind !== "turno" || !d.record) return;
  const rec = d.record;
  if (d.from !== d.to) {
    if (d.to === "en_espera") waiting[rec.area_id] = (waiting[rec.area_id] || 0) + 1;
    if (d.from === "en_espera") waiting[rec.area_id] = Math.max(0, (waiting[rec.area_id] || 0) - 1);
  }
  if (area && rec.area_id !== area) return renderWaiting();
  const id = String(d.id);
  const current = entries.get(id);
  if (current && current.version >= d.version) return; // already shown
  if (pub.ev === "turno_llamado") entries.set(id, pick(rec));
  else if (current) entries.set(id, { ...current, ...pick(rec) });
  else return renderWaiting(); // a turno this wall never listed
  render(live && pub.ev === "turno_llamado" ? id : null);
}

function latest() {
  const list = [...entries.values()].sort((a, b) => (b.llamado_at || 0) - (a.llamado_at || 0));
  for (const e of list.slice(N)) entries.delete(e.id);
  return list.slice(0, N);
}

// The big panel shows the latest call still standing: a turno being attended
// stays up (an older one still "llamado" had its turn on the panel already),
// a no-show comes down (the list below says it did not come).
const standing = (list) => list.find((e) => e.state !== "no_presento") || null;

function render(calledId) {
  const list = latest();
  const now = (calledId && entries.get(calledId)) || standing(list);
  const box = $("now");
  if (now) newestShown = Math.max(newestShown, now.llamado_at || 0);
  if (now) {
    $("now-label").textContent = now.state === "llamado" ? "Turno" : "Último llamado";
    $("now-numero").textContent = now.numero_visible;
    $("now-mesa").textContent = now.mesa_nombre || "";
    box.dataset.state = now.state;
    box.dataset.id = now.id;
  } else {
    $("now-label").textContent = list.length ? "Esperando el próximo llamado" : "Esperando el primer llamado";
    $("now-numero").textContent = "—";
    $("now-mesa").textContent = "";
    box.dataset.state = "vacio";
    delete box.dataset.id;
  }
  if (calledId && now) {
    calls++;
    box.dataset.calls = String(calls);
    box.classList.remove("is-calling");
    void box.offsetWidth; // restart the highlight
    box.classList.add("is-calling");
    chime();
    const again = now.llamadas > 1 ? "Nuevo llamado: " : "";
    $("announcer").textContent = `${again}turno ${now.numero_visible}, ${now.mesa_nombre}`;
  }
  const items = list.filter((e) => e !== now).map((e) => {
    const li = document.createElement("li");
    li.dataset.id = e.id;
    li.dataset.state = e.state;
    li.innerHTML = '<span class="wall-num"></span><span class="wall-to"><span class="wall-mesa"></span><small></small></span>';
    li.querySelector(".wall-num").textContent = e.numero_visible;
    li.querySelector(".wall-mesa").textContent = e.mesa_nombre || "";
    li.querySelector("small").textContent = LABEL[e.state] || "";
    return li;
  });
  $("list").replaceChildren(...items);
  $("list-empty").hidden = items.length > 0 || !!now;
  renderWaiting();
}

function renderWaiting() {
  const n = area ? waiting[area] || 0 : Object.values(waiting).reduce((a, b) => a + b, 0);
  $("en-espera").textContent = String(n);
  // Estimated wait for whoever takes a ticket now: those waiting × the area's
  // recent service time ÷ its mesas in service; per area on a wall of several.
  const areas = config.areas.filter((a) => !area || a.id === area);
  const parts = areas.map((a) => {
    const e = estimacion[a.id];
    const w = waiting[a.id] || 0;
    if (!e || e.servicio_s == null || !e.mesas) return null;
    const text = w ? aproximado((w * e.servicio_s) / e.mesas) : "sin espera";
    return areas.length > 1 ? `${a.nombre}: ${text}` : text;
  }).filter(Boolean);
  $("estimada").textContent = parts.length ? `Espera estimada: ${parts.join(" · ")}` : "";
  $("estimada").dataset.areas = String(parts.length);
}

function setPace(snap) {
  estimacion = snap.estimacion || {};
  pausas = snap.pausas || [];
  renderPausas();
}

function renderPausas() {
  const names = pausas.map((id) => config.mesas.find((m) => m.id === id))
    .filter((m) => m && (!area || m.area_id === area)).map((m) => m.nombre);
  $("pausas").hidden = !names.length;
  $("pausas").textContent = names.length ? `En pausa: ${names.join(", ")}` : "";
  renderWaiting();
}

// The pace and the breaks change with the mesas (turnos:config) and as
// turnos finish: read again on a mesa change, and every 30 s.
const refreshPace = async () => setPace(await apiRetry("/api/turnos/monitor"));
relevo.poll(refreshPace, 30000);
rv.subscribe("turnos:config", (pub) => {
  const d = pub.data;
  if (!d || d.kind !== "mesa" || !d.record) return;
  // the publication says whether this mesa is on a break; the pace is read again
  const paused = d.record.pausa && d.record.activa !== false && d.op !== "delete";
  pausas = pausas.filter((id) => id !== String(d.id)).concat(paused ? [String(d.id)] : []);
  renderPausas();
  refreshPace();
});

// Sound needs one touch or key press on the screen (a browser rule); a kiosk
// browser can skip it with --autoplay-policy=no-user-gesture-required.
const sound = $("sound");
const enableSound = () => {
  unlockAudio();
  setTimeout(() => { sound.hidden = audioReady(); }, 200);
};
sound.addEventListener("click", enableSound);
addEventListener("keydown", enableSound, { once: true });
unlockAudio();
setTimeout(() => { sound.hidden = audioReady(); }, 300);

const snap = await load();
rv.subscribe(snap.channel, onPublication, {
  since: { epoch: snap.epoch, offset: snap.offset },
  onReset: () => load(), // the history is gone (a restart): reload from the database
});
document.body.dataset.ready = "true";
