// Shared by the four turnos screens, on the UI kit's session module:
// configuration, tokens, API calls, what the login page shows, state labels,
// the chime and a few formats. ES module, no build step.

import * as session from "/static/ui/session.js";
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

// Reasons an operator gives for a break (free text on the API, these in the panel).
export const MOTIVO_PAUSA = {
  descanso: "Descanso",
  almuerzo: "Almuerzo",
  tarea: "Tarea interna",
  capacitacion: "Capacitación",
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

/** The Spanish sentence for an API error: the server's `mensaje`, else one by code. */
export const errorText = (err) => session.errorText(err, MENSAJES);

/** fetch() a JSON API route (10 s at most); throws ApiError (/static/ui/session.js). */
export const api = (path, opts = {}) => session.api(path, { timeout: 10000, ...opts });

/** GET, retried with backoff while the server is down or unreachable. */
export const apiRetry = (path, opts = {}, retry = {}) => session.apiRetry(path, { timeout: 10000, ...opts }, retry);

export const loadConfig = () => apiRetry("/api/turnos/config");

// -- tokens -------------------------------------------------------------------------

// A session per screen and tab: an operator and the admin can share a browser.
const STORES = Object.fromEntries(["operador", "admin", "kiosco"].map((rol) => [rol, session.sessionStore(`relevo.turnos.session.${rol}`)]));

/** The token the kiosk issues tickets with (when `kiosk_role` asks for one): handed as #token=…, kept for the tab. */
export const kioskToken = () => STORES.kiosco.load()?.token || "";

/**
 * The token a staff screen (rol "operador" or "admin") connects with, first found:
 *   1. `#token=…` in the page URL (kept for the tab);
 *   2. one kept earlier in this tab (sessionStorage), or one from the
 *      browser's sign-in session (GET /auth/token);
 *   3. `token_url` of [app.turnos]: your backend answers {"token": …} for the signed-in user;
 *   4. on a demo server (`relevo demo`), none: the page goes to the login, where
 *      each operator picks who they are (one per mesa), and comes back.
 * Returns {token, refresh, forget, logout, user, session}; refresh() fetches a
 * new one for the same user, logout() forgets it and goes to the login.
 */
export async function staffToken(rol, config) {
  const store = STORES[rol];
  let kept = store.load();
  if (!kept) {
    // signed in with relevo's sign-in (the session cookie): a token from it
    const given = await session.sessionToken("turnos").then((r) => store.save(r.token).token).catch(() => null);
    if (given) kept = store.load();
  }
  if (!kept && config.demo && !config.token_url) {
    location.replace(`/turnos/login?next=${encodeURIComponent(location.pathname)}`);
    await new Promise(() => {}); // the page is leaving
  }
  const fetchNew = session.tokenSource("turnos", config, kept?.user, (token) => store.save(token).token);
  let token = kept?.token;
  if (!token && fetchNew) token = await fetchNew().catch(() => null);
  const refresh = async () => (fetchNew && (await fetchNew().catch(() => null))) || store.load()?.token || "";
  const user = () => {
    const s = store.load();
    return s && { name: s.name, role: s.rol || s.roles.join(", ") };
  };
  const forget = async () => {
    await session.signOut();
    store.clear();
  };
  const logout = async () => {
    await forget();
    location.href = "/turnos/login";
  };
  return { token, refresh, forget, logout, user, session: () => store.load() };
}

/** What the one login page (/static/ui/login.js) needs to know of this app. */
export const LOGIN = {
  name: "Turnos",
  heading: "Turnos",
  subtitle: "Las mesas llaman a la fila y la estadística se ve en vivo: cada operador entra con su nombre y su mesa, o entra supervisión.",
  homes: { operador: "/turnos/operador", admin: "/turnos/admin" },
  stores: [STORES.operador, STORES.admin],
  storeFor: (s) => (s.roles.includes("admin") ? STORES.admin : STORES.operador),
  who: (s) => s.name,
  describe: (u) => `${u.rol || u.roles.join(", ")} · ${u.mesa_nombre || `usuario ${u.id}`}`,
  // Kept with the session: the name, how the role reads, the operator's own mesa.
  extra: (u) => ({ name: u.nombre, rol: u.rol || "", mesa: u.mesa || "" }),
  groups: (users) => [
    { title: "Operadores", meta: "Llaman y atienden en su mesa", users: users.filter((u) => u.roles.includes("operador")) },
    { title: "Supervisión", meta: "Estadísticas del día", users: users.filter((u) => u.roles.includes("admin")) },
  ],
  demo: ["Modo demostración", "Elige quién eres: cada operador tiene su mesa y recibe un token de desarrollo. Abre dos operadores en ventanas distintas para ver una mesa por persona. El kiosco y el monitor no necesitan usuario."],
  elsewhere: ["Entra desde el sistema de tu organización", "Esta instalación no usa el acceso de demostración: tu sistema abre /turnos/operador o /turnos/admin con tu sesión (#token=…)."],
};

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
      try {
        STORES[rol].save(value);
      } catch (_) {
        error.textContent = "Ese token no se puede leer.";
        error.hidden = false;
        return;
      }
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

/** An estimated wait as a person reads it: "menos de 1 minuto", "unos 6 minutos", "1 h 20 min". */
export function aproximado(seconds) {
  const m = Math.round(seconds / 60);
  if (m < 1) return "menos de 1 minuto";
  if (m === 1) return "alrededor de 1 minuto";
  if (m < 60) return `unos ${m} minutos`;
  return `alrededor de ${espera(m * 60)}`;
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
