// The admin page: polls /api/admin/overview every 2 s while the tab is
// visible and shows connections, channels, rates, presence and errors.

import * as session from "/static/ui/session.js";
import * as ui from "/static/ui/ui.js";
import { makeTables, who } from "/static/admin-tables.js";

const STORE_KEY = "relevo.admin.credential";
const POLL_MS = 2000;
const MAX_BACKOFF_MS = 15000;
const SAMPLES = 61; // two minutes of rate history at 2 s

// -- credentials and the API --------------------------------------------------------

let credential = sessionStorage.getItem(STORE_KEY) || "";

/** The admin API with the credential typed in: a token (Bearer) or the API key. */
const api = (path, opts = {}) =>
  session.api(path, { ...opts, ...(session.looksLikeJwt(credential) ? { token: credential } : { apiKey: credential }) });

// -- sign-in ---------------------------------------------------------------------------

const $ = (id) => document.getElementById(id);
const loginView = $("login-view");
const dashboard = $("dashboard");

function loginMessage(err) {
  if (err.code === "forbidden") {
    return ["El token no tiene el rol admin",
      "El token es válido, pero esta página solo se abre con un token que incluya el rol admin."];
  }
  if (err.code === "token_expired") {
    return ["El token ha caducado", "Genera uno nuevo (relevo token --user TU_USUARIO --roles admin) e inténtalo otra vez."];
  }
  if (err.code === "unauthorized") {
    return ["Clave de API o token no válido",
      "El servidor rechazó la credencial. Revisa auth.api_key en relevo.toml o usa un token con el rol admin."];
  }
  if (err.code === "network") {
    return ["No se pudo contactar con el servidor", "Comprueba que relevo está en marcha y vuelve a intentarlo."];
  }
  return ["No se pudo entrar", `El servidor respondió ${err.status || ""} ${err.code}: ${err.message}`];
}

function showLogin(err) {
  stopPolling();
  dashboard.hidden = true;
  loginView.hidden = false;
  $("who").hidden = true;
  $("logout").hidden = true;
  ui.setConn($("conn"), "disconnected", { label: "Sin sesión" });
  const box = $("login-error");
  if (err) {
    const [title, text] = loginMessage(err);
    $("login-error-title").textContent = title;
    $("login-error-text").textContent = text;
    box.hidden = false;
    $("credential").setAttribute("aria-invalid", "true");
  } else {
    box.hidden = true;
    $("credential").removeAttribute("aria-invalid");
  }
  $("credential").focus();
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const value = $("credential").value.trim();
  if (!value) {
    showLogin(new session.ApiError(0, { code: "empty" }));
    $("login-error-title").textContent = "Falta la credencial";
    $("login-error-text").textContent = "Escribe la clave de API o pega un token con el rol admin.";
    return;
  }
  credential = value;
  const button = $("login-submit");
  try {
    const data = await ui.busy(button, api("/api/admin/overview"));
    sessionStorage.setItem(STORE_KEY, credential);
    $("credential").value = "";
    enterDashboard(data);
  } catch (err) {
    credential = "";
    showLogin(err);
  }
});

$("logout").addEventListener("click", () => {
  sessionStorage.removeItem(STORE_KEY);
  credential = "";
  samples.length = 0;
  showLogin(null);
});

function showWho() {
  const sub = session.looksLikeJwt(credential) ? session.claims(credential)?.sub || "" : "";
  const chip = sub
    ? ui.userChip({ name: sub, role: "admin" })
    : ui.h("span", { class: "user-chip" }, ui.h("span", { class: "avatar" }, ui.icon("key")), "Clave de API");
  $("who").replaceChildren(chip);
  $("who").hidden = false;
  $("logout").hidden = false;
}

// -- tables ----------------------------------------------------------------------------

let lastData = null;

const { connTable, chanTable, recentTable, codesTable } = makeTables({
  onDisconnect: disconnectClient,
  onOpenChannel: openChannel,
});


// -- actions ---------------------------------------------------------------------------

async function disconnectClient(row, button) {
  const ok = await ui.confirm({
    name: "admin-disconnect",
    title: "¿Desconectar esta conexión?",
    message: `${row.user ? `Usuario ${row.user}` : "Cliente anónimo"} · ${row.client}. Si su cliente reconecta, volverá a aparecer.`,
    confirmLabel: "Desconectar",
    danger: true,
  });
  if (!ok) return;
  try {
    await ui.busy(button, api("/api/admin/disconnect", { method: "POST", body: { client: row.client } }));
    ui.toast(`Conexión ${row.client} cerrada.`, { kind: "success" });
    poll();
  } catch (err) {
    ui.toast(err.message, { kind: "danger", title: "No se pudo desconectar" });
  }
}

async function openChannel(name) {
  chanTable.select(name);
  const local = (lastData?.connections || []).filter((c) => c.channels.includes(name));
  const body = ui.h("div", { class: "stack-lg" }, ui.h("div", { class: "row" }, ui.h("span", { class: "spinner" }), "Cargando presencia…"));
  const d = ui.drawer({ name: "admin-channel", title: name, body, onClose: () => chanTable.select(null) });
  let presence;
  try {
    presence = await api(`/api/admin/presence/${encodeURIComponent(name).replace(/%3A/gi, ":")}`);
  } catch (err) {
    presence = { error: err };
  }
  const section = (title, count, content) => ui.h("section", null,
    ui.h("h3", { class: "section-title" }, title, ui.badge(count, { kind: "info" })), content);
  let presenceView;
  if (presence.error) {
    presenceView = ui.h("div", { class: "alert alert-danger" }, ui.icon("danger"), ui.h("div", null,
      ui.h("div", { class: "alert-title" }, "No se pudo leer la presencia"), presence.error.message));
  } else if (!presence.tracked) {
    presenceView = ui.emptyState({
      icon: "users", small: true, title: "Este canal no registra presencia",
      text: ui.h("span", null, "Activa ", ui.h("code", "join_leave = true"), " en su namespace de relevo.toml para ver quién está, en todos los nodos."),
    });
  } else if (!presence.clients.length) {
    presenceView = ui.emptyState({ icon: "users", small: true, title: "Nadie presente", text: "" });
  } else {
    presenceView = ui.h("ul", { class: "list card" }, presence.clients.map((c) => ui.h("li", { class: "list-item" },
      ui.h("span", { class: "avatar" }, ui.initials(c.user || "?")),
      ui.h("div", { class: "grow" }, ui.h("div", { class: "title" }, c.user || "Anónimo"),
        ui.h("div", { class: "sub mono" }, c.client)),
      c.info?.transport ? ui.h("span", { class: "tag" }, String(c.info.transport).toUpperCase()) : null)));
  }
  const localView = local.length
    ? ui.h("ul", { class: "list card" }, local.map((c) => ui.h("li", { class: "list-item" },
        who(c.user, c.roles), ui.h("span", { class: "spacer" }), ui.h("span", { class: "tag" }, c.client))))
    : ui.h("p", { class: "muted" }, "Ninguna en este nodo.");
  const count = presence.clients ? presence.clients.length : 0;
  d.body.replaceChildren(ui.h("div", { class: "stack-lg" },
    ui.h("dl", { class: "dl" },
      ui.h("dt", "Suscriptores en este nodo"), ui.h("dd", ui.fmtNumber(local.length)),
      ui.h("dt", "Presencia"), ui.h("dd", presence.tracked ? `${count} en todos los nodos` : "no registrada")),
    section("Presentes", count, presenceView),
    section("Conexiones suscritas en este nodo", local.length, localView)));
}

// -- rendering the overview -------------------------------------------------------------

const samples = []; // {t, pub, del, err}
const sparks = {
  pub: ui.sparkline([], { label: "Publicaciones por segundo, últimos 2 minutos" }),
  del: ui.sparkline([], { label: "Entregas por segundo, últimos 2 minutos" }),
};
$("sp-pub").replaceWith(sparks.pub);
$("sp-del").replaceWith(sparks.del);

const sum = (obj) => Object.values(obj || {}).reduce((a, b) => a + b, 0);

function rates(field) {
  const out = [];
  for (let i = 1; i < samples.length; i++) {
    const dt = samples[i].t - samples[i - 1].t;
    out.push(dt > 0 ? Math.max(0, (samples[i][field] - samples[i - 1][field]) / dt) : 0);
  }
  return out;
}

function setText(id, text, { flashOnChange = false } = {}) {
  const el = $(id);
  if (el.textContent === text) return;
  el.textContent = text;
  if (flashOnChange) ui.flash(el.closest(".stat"));
}

function setRate(id, series) {
  const el = $(id);
  const value = series.length ? series[series.length - 1] : null;
  el.replaceChildren(value == null ? "—" : ui.fmtDecimal(value), ui.h("small", "/s"));
}

let firstRender = true;
const knownClients = new Set();

function render(data) {
  lastData = data;
  const c = data.counters;
  const sample = { t: data.now, pub: c.publications, del: c.deliveries, err: sum(c.errors) + sum(c.disconnects) };
  const prev = samples[samples.length - 1];
  if (prev && (sample.pub < prev.pub || sample.del < prev.del)) samples.length = 0; // the server restarted
  samples.push(sample);
  if (samples.length > SAMPLES) samples.shift();

  $("subtitle").replaceChildren(
    `Nodo ${data.node} · relevo ${data.version} · broker `, ui.h("code", data.broker), " · actualizado ",
    ui.h("time", { "data-ago": "", datetime: new Date(data.now * 1000).toISOString() }, "ahora"));

  const t = data.totals;
  const byTransport = Object.entries(c.connections).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(" · ");
  setText("st-conn", ui.fmtNumber(t.connections), { flashOnChange: !firstRender });
  setText("st-conn-foot", `${byTransport || "ninguna"} · ${t.users} ${t.users === 1 ? "usuario" : "usuarios"}`);
  setText("st-chan", ui.fmtNumber(t.channels), { flashOnChange: !firstRender });
  setText("st-chan-foot", `${ui.fmtNumber(t.subscriptions)} suscripciones`);

  const pub = rates("pub");
  const del = rates("del");
  setRate("st-pub", pub);
  setRate("st-del", del);
  ui.updateSparkline(sparks.pub, pub);
  ui.updateSparkline(sparks.del, del);
  const peak = (s) => (s.length ? ui.fmtDecimal(Math.max(...s)) : "—");
  setText("st-pub-foot", `Total ${ui.fmtNumber(c.publications)} · máx ${peak(pub)}/s`);
  setText("st-del-foot", `Total ${ui.fmtNumber(c.deliveries)} · máx ${peak(del)}/s`);

  // errors in the last minute, from the samples (≈ 30 polls)
  const minuteAgo = samples.find((s) => s.t >= data.now - 61) || samples[0];
  const lastMinute = sample.err - minuteAgo.err;
  setText("st-err", samples.length > 1 ? ui.fmtNumber(lastMinute) : "—", { flashOnChange: !firstRender && lastMinute > 0 });
  $("st-err").style.color = lastMinute > 0 ? "var(--danger)" : "";
  setText("st-err-foot", `último minuto · ${ui.fmtNumber(sample.err)} desde el arranque`);

  // connections: announce arrivals and departures to screen readers
  const now = new Set(data.connections.map((x) => x.client));
  if (!firstRender) {
    const arrived = data.connections.filter((x) => !knownClients.has(x.client));
    const left = [...knownClients].filter((id) => !now.has(id));
    if (arrived.length) ui.announce(`${arrived.length === 1 ? "Nueva conexión" : `${arrived.length} conexiones nuevas`}: ${arrived.map((x) => x.user || x.client).join(", ")}`);
    if (left.length) ui.announce(`${left.length === 1 ? "Se cerró una conexión" : `Se cerraron ${left.length} conexiones`}`);
  }
  knownClients.clear();
  for (const id of now) knownClients.add(id);

  connTable.set(data.connections, { flash: !firstRender });
  ui.setBadge($("conn-count"), data.connections.length);
  chanTable.set(data.channels, { flash: !firstRender });
  ui.setBadge($("chan-count"), data.channels.length);
  applyFilter();

  recentTable.set(data.recent_errors.slice(-50), { flash: !firstRender });
  $("recent-source").textContent = data.recent_errors.length ? `últimos ${Math.min(50, data.recent_errors.length)}` : "";

  const codes = [
    ...Object.entries(c.errors).map(([code, total]) => ({ key: `e:${code}`, code, kind: "error", total })),
    ...Object.entries(c.disconnects).map(([code, total]) => ({ key: `d:${code}`, code, kind: "disconnect", total })),
  ].filter((r) => r.total > 0);
  codesTable.set(codes, { flash: !firstRender });
  firstRender = false;
}

// -- polling (every 2 s while visible, paused while hidden) ------------------------------

let timer = null;
let inflight = false;
let failures = 0;
let paused = false;

function stopPolling() {
  clearTimeout(timer);
  timer = null;
}

function schedule() {
  stopPolling();
  if (!credential || paused || document.hidden) return;
  const delay = failures ? Math.min(POLL_MS * 2 ** failures, MAX_BACKOFF_MS) : POLL_MS;
  timer = setTimeout(poll, delay);
}

async function poll() {
  stopPolling();
  if (inflight || !credential) return;
  inflight = true;
  try {
    const data = await api("/api/admin/overview");
    if (failures) ui.toast("Conexión con el servidor restablecida.", { kind: "success" });
    failures = 0;
    $("offline").hidden = true;
    ui.setConn($("conn"), "connected");
    render(data);
  } catch (err) {
    if (err.status === 401 || err.status === 403) {
      sessionStorage.removeItem(STORE_KEY);
      credential = "";
      showLogin(err);
      return;
    }
    failures += 1;
    ui.setConn($("conn"), failures > 1 ? "disconnected" : "connecting", { label: failures > 1 ? "Sin conexión" : "Reconectando…" });
    $("offline-text").textContent = err.code === "network"
      ? "Sin conexión con el servidor. Reintentando…"
      : `El servidor respondió con un error (${err.code}): ${err.message}. Reintentando…`;
    $("offline").hidden = false;
  } finally {
    inflight = false;
    schedule();
  }
}

document.addEventListener("visibilitychange", () => {
  if (document.hidden) stopPolling();
  else if (credential && !paused && !dashboard.hidden) poll();
});

function setPaused(value) {
  paused = value;
  const btn = $("pause");
  btn.setAttribute("aria-pressed", String(paused));
  btn.replaceChildren(ui.icon(paused ? "play" : "pause"), ui.h("span", paused ? "Reanudar" : "Pausar"));
  $("paused-note").hidden = !paused;
  if (paused) {
    stopPolling();
    ui.setConn($("conn"), "connecting", { label: "En pausa" });
    ui.announce("Actualización en pausa");
  } else {
    ui.announce("Actualización reanudada");
    poll();
  }
}

$("pause").addEventListener("click", () => setPaused(!paused));
$("refresh").addEventListener("click", () => poll());
$("help").addEventListener("click", () => ui.showHelp());

const filterInput = $("conn-filter");
function applyFilter() {
  const q = filterInput.value.trim().toLowerCase();
  connTable.filter(q ? (r) => [r.user, r.client, r.remote, r.transport, r.tenant, ...r.roles, ...r.channels]
    .join(" ").toLowerCase().includes(q) : null);
}
filterInput.addEventListener("input", applyFilter);

ui.shortcuts({
  "/": { run: ui.focusSearch("#conn-filter"), label: "Filtrar conexiones" },
  r: { run: () => poll(), label: "Actualizar ahora" },
  p: { run: () => setPaused(!paused), label: "Pausar o reanudar la actualización" },
});

function enterDashboard(data) {
  loginView.hidden = true;
  dashboard.hidden = false;
  showWho();
  ui.setConn($("conn"), "connected");
  render(data);
  schedule();
}

// -- start ---------------------------------------------------------------------------------

ui.hydrateIcons();
ui.tickTimes();
connTable.loading(3);
chanTable.loading(3);

if (credential) {
  api("/api/admin/overview").then(enterDashboard, (err) => {
    if (err.status === 401 || err.status === 403) {
      sessionStorage.removeItem(STORE_KEY);
      credential = "";
      showLogin(err);
      return;
    }
    // the server is not answering: show the page and keep retrying
    loginView.hidden = true;
    dashboard.hidden = false;
    showWho();
    failures = 1;
    ui.setConn($("conn"), "disconnected");
    $("offline").hidden = false;
    schedule();
  });
} else {
  showLogin(null);
}
