// Shared by the four turnos screens: configuration, tokens, API calls,
// state labels, the chime and a few formats. ES module, no build step.

import * as ui from "/static/ui/ui.js";

// The seed's states, with the UI kit's colours.
ui.defineStatus({
  en_espera: ["En espera", "neutral"],
  llamado: ["Llamado", "info", true],
  atendiendo: ["En atención", "warning"],
  finalizado: ["Finalizado", "success"],
  no_presento: ["No se presentó", "danger"],
});

export const PRIORIDAD = {
  adulto_mayor: "Adulto mayor",
  embarazada: "Embarazada",
  discapacidad: "Persona con discapacidad",
  otro: "Otro motivo",
};

export const MOTIVO_FIN = {
  atendido: "Atendido",
  derivado: "Derivado",
  desistio: "Desistió",
  otro: "Otro",
};

// What a screen says when the server answers with a code and no `mensaje`.
const MENSAJES = {
  unauthorized: "Su acceso venció o no es válido. Vuelva a ingresar.",
  token_expired: "Su acceso venció. Vuelva a ingresar.",
  forbidden: "Su usuario no tiene permiso para esta acción.",
  not_found: "No se encontró lo que buscaba.",
  conflict: "Otro puesto cambió este turno al mismo tiempo. Intente de nuevo.",
  rate_limited: "Demasiadas solicitudes seguidas. Espere unos segundos.",
  unavailable: "El servidor no está disponible. Intente de nuevo en unos segundos.",
  network: "Sin conexión con el servidor.",
  timeout: "El servidor tardó demasiado en responder.",
  bad_request: "La solicitud no es válida.",
};

/** An API error: `code` (relevo's stable codes), `status`, and `mensaje`,
 * the Spanish sentence to show. */
export class ApiError extends Error {
  constructor(code, mensaje, { status = 0, body = {} } = {}) {
    super(mensaje);
    this.code = code;
    this.mensaje = mensaje;
    this.status = status;
    this.body = body;
  }
}

/** fetch() a JSON API route; throws ApiError. */
export async function api(path, { method = "GET", body, token, timeout = 10000 } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), timeout);
  let res;
  try {
    res = await fetch(path, { method, headers, cache: "no-store", signal: ctrl.signal,
      body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (_) {
    const code = ctrl.signal.aborted ? "timeout" : "network";
    throw new ApiError(code, MENSAJES[code]);
  } finally {
    clearTimeout(timer);
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const code = data.code || `http_${res.status}`;
    throw new ApiError(code, data.mensaje || MENSAJES[code] || `Error ${res.status}`, { status: res.status, body: data });
  }
  return data;
}

/** GET, retried with backoff while the server is down or unreachable. */
export async function apiRetry(path, opts = {}, { tries = Infinity, onRetry } = {}) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await api(path, opts);
    } catch (err) {
      const transient = ["network", "timeout", "unavailable", "internal"].includes(err.code) || err.status >= 500;
      if (!transient || attempt >= tries) throw err;
      if (onRetry) onRetry(err, attempt);
      await new Promise((r) => setTimeout(r, Math.min(8000, 250 * 2 ** attempt) * (0.5 + Math.random() / 2)));
    }
  }
}

export const loadConfig = () => apiRetry("/api/turnos/config");

// -- tokens -------------------------------------------------------------------------

/**
 * A token handed to this page in the URL fragment, `#token=…` (as the leads pages
 * take theirs): a browser never sends the fragment to the server, so the token stays
 * out of access logs, Referer headers and proxies. It leaves the address bar (and
 * the tab's history) at once. A `?token=` is removed unused: the query string has
 * already gone to the server by the time the page runs — hand tokens in the fragment.
 */
export function takeToken() {
  const url = new URL(location.href);
  const hash = new URLSearchParams(url.hash.slice(1));
  const given = hash.get("token");
  if (!given && !url.searchParams.has("token")) return null;
  hash.delete("token");
  url.searchParams.delete("token");
  url.hash = hash.toString();
  history.replaceState(null, "", url);
  return given;
}

/**
 * The token a staff screen (rol "operador" or "admin") connects with, first found:
 *   1. `#token=…` in the page URL (see takeToken; kept for the tab);
 *   2. one kept earlier in this tab (sessionStorage);
 *   3. `token_url` of [app.turnos]: your backend answers {"token": …} for the signed-in user;
 *   4. on a demo server (`relevo demo`), a development token (POST /api/turnos/demo/token).
 * Returns {token, refresh} — refresh() fetches a new one the same way (null if it cannot).
 */
const DEMO_USER = { operador: "operador", admin: "supervisor" };

export async function staffToken(rol, config) {
  const key = `turnos.token.${rol}`;
  const given = takeToken();
  if (given) sessionStorage.setItem(key, given);
  const fetchNew = async () => {
    if (config.token_url) {
      const res = await fetch(config.token_url, { credentials: "include", cache: "no-store" });
      if (res.ok) return (await res.json()).token;
    }
    if (config.demo) {
      const res = await api("/api/turnos/demo/token", { method: "POST", body: { user: DEMO_USER[rol] } });
      sessionStorage.setItem(`${key}.user`, JSON.stringify(res.user));
      return res.token;
    }
    return null;
  };
  let token = sessionStorage.getItem(key);
  if (!token) token = await fetchNew().catch(() => null);
  if (token) sessionStorage.setItem(key, token);
  const refresh = async () => {
    const fresh = await fetchNew().catch(() => null);
    if (fresh) sessionStorage.setItem(key, fresh);
    return fresh || sessionStorage.getItem(key) || "";
  };
  return { token, refresh, forget: () => sessionStorage.removeItem(key), user: () => whoIs(sessionStorage.getItem(key) || "", key) };
}

/** {name, role} for the top bar: the demo user, or the token's claims. */
function whoIs(token, key) {
  try {
    const demo = JSON.parse(sessionStorage.getItem(`${key}.user`) || "null");
    if (demo) return { name: demo.nombre, role: demo.rol || "" };
    const claims = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    return { name: claims.name || claims.sub, role: (claims.roles || []).join(", ") };
  } catch (_) {
    return null;
  }
}

/** A card asking for a token (when no source gave one); resolves with it. */
export function askToken(container, rol) {
  return new Promise((resolve) => {
    const input = ui.h("textarea", { class: "input mono", rows: 4, placeholder: "eyJhbGciOi…", "aria-label": "Token de acceso" });
    const error = ui.h("p", { class: "error", hidden: true });
    const form = ui.h("form", { class: "card login-card", onsubmit: (e) => {
      e.preventDefault();
      const value = input.value.trim();
      if (value.split(".").length !== 3) {
        error.textContent = "Eso no parece un token (tres partes separadas por puntos).";
        error.hidden = false;
        return;
      }
      sessionStorage.setItem(`turnos.token.${rol}`, value);
      form.remove();
      resolve(value);
    } },
    ui.h("div", { class: "card-header" }, ui.h("h2", "Ingresar")),
    ui.h("div", { class: "card-body stack" },
      ui.h("p", `Esta pantalla necesita un token de acceso con el rol «${rol}».`),
      ui.h("p", { class: "muted small" }, "Pídalo a quien administra el sistema (", ui.h("code", `relevo token --user ana --roles ${rol}`), ")."),
      ui.h("div", { class: "field" }, input, error),
      ui.h("button", { class: "btn btn-primary", type: "submit" }, "Entrar")));
    container.replaceChildren(form);
    input.focus();
  });
}

// -- the chime (Web Audio, no asset) ---------------------------------------------------

let audio = null;

/** Browsers start audio only after a user gesture: call this from one. */
export function unlockAudio() {
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return false;
  if (!audio) audio = new Ctx();
  if (audio.state === "suspended") audio.resume();
  return true;
}

export const audioReady = () => !!audio && audio.state === "running";

/** Two soft notes, high then low ("ding-dong"), about a second long. */
export function chime() {
  document.body.dataset.chimes = String(Number(document.body.dataset.chimes || 0) + 1);
  if (!audioReady()) return;
  const t0 = audio.currentTime + 0.02;
  [[987.77, 0], [783.99, 0.42]].forEach(([freq, at]) => {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = "sine";
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, t0 + at);
    gain.gain.exponentialRampToValueAtTime(0.35, t0 + at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t0 + at + 0.9);
    osc.connect(gain).connect(audio.destination);
    osc.start(t0 + at);
    osc.stop(t0 + at + 0.95);
  });
}

// -- formats -----------------------------------------------------------------------------

/** A wait, as precise as it is useful: 42 → "42 s", 75 → "1 min 15 s",
 * 2094 → "35 min", 4020 → "1 h 7 min"; null → "—". */
export function espera(seconds) {
  if (seconds == null) return "—";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 600) return s % 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s / 60} min`;
  const m = Math.round(s / 60);
  return m < 60 ? `${m} min` : `${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ""}`;
}

/** Reload the page after local midnight: numbering and queues restart each day. */
export function reloadAtMidnight() {
  const now = new Date();
  const next = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1, 0, 0, 30);
  setTimeout(() => location.reload(), next - now);
}

/** The clock of a wall or kiosk header, updated every second. */
export function clock(el) {
  const tick = () => { el.textContent = new Date().toLocaleTimeString("es", { hour: "2-digit", minute: "2-digit" }); };
  tick();
  return setInterval(tick, 1000);
}
