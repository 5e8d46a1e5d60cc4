// What the cargue pages share: the session (a token per screen), calls to
// /api/cargue, the relevo connection, the top bar and Spanish error texts.

import * as relevo from "/relevo.js";
import * as ui from "/static/ui/ui.js";

// One session per screen, so a vendor and the dispatcher can be signed in on
// two tabs of one browser. localStorage: a phone that kills the tab keeps it.
const sessionKey = (screen) => `relevo.cargue.session.${screen}`;
export const SCREEN_OF = { vendedor: "vendedor", despachador: "despacho", admin: "despacho" };

/** Claims of a JWT (unverified: the server checks it on every call). */
export function claims(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (_) {
    return null;
  }
}

export function saveSession(screen, token, extra = {}) {
  const c = claims(token);
  if (!c || !c.sub) throw new Error("token inválido");
  const roles = Array.isArray(c.roles) ? c.roles : c.roles ? [c.roles] : [];
  const s = { token, user: String(c.sub), name: c.name || String(c.sub), roles, exp: c.exp || null, ...extra };
  localStorage.setItem(sessionKey(screen), JSON.stringify(s));
  return s;
}

/** The session of `screen`: a token handed over in the URL fragment
 * (#token=…, then removed from the address bar) or the stored one. */
export function loadSession(screen) {
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get("token")) {
    history.replaceState(null, "", location.pathname + location.search);
    try {
      saveSession(screen, hash.get("token"));
    } catch (_) {
      // an unreadable token: fall back to the stored session
    }
  }
  let s = null;
  try {
    s = JSON.parse(localStorage.getItem(sessionKey(screen)) || "null");
  } catch (_) {
    s = null;
  }
  if (!s || !s.token) return null;
  if (s.exp && s.exp * 1000 < Date.now()) return null;
  return s;
}

export function logout(screen) {
  localStorage.removeItem(sessionKey(screen));
  location.href = "/cargue/";
}

/** The page needs a session with one of `roles`; otherwise back to the login. */
export function requireSession(screen, roles) {
  const s = loadSession(screen);
  if (!s || !s.roles.some((r) => roles.includes(r))) {
    location.replace(`/cargue/?next=${encodeURIComponent(screen)}`);
    return null;
  }
  return s;
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body.message || `HTTP ${status}`);
    this.status = status;
    this.code = body.code || `http_${status}`;
    this.body = body;
    // Worth sending again later: the network, the server busy or restarting.
    this.retry = status === 0 || status >= 500 || status === 429 || Boolean(body.retry);
  }
}

/** JSON in and out, with the session's token; errors as ApiError (status 0: network). */
export async function api(path, { method = "GET", body, token } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store" });
  } catch (err) {
    throw new ApiError(0, { code: "network", message: err.message });
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

let configPromise = null;
export function getConfig() {
  configPromise = configPromise || api("/api/cargue/config");
  return configPromise;
}

/** A fresh token for this screen's user: the deployment's token_url, or the
 * demo login. Null when neither is available. */
export function tokenSource(screen, session, config) {
  if (config.token_url) {
    return async () => {
      const res = await fetch(config.token_url, { credentials: "include", cache: "no-store" });
      const { token } = await res.json();
      return saveSession(screen, token).token;
    };
  }
  if (config.demo) {
    return async () => {
      const { token } = await api("/api/cargue/demo/token", { method: "POST", body: { user: session.user } });
      return saveSession(screen, token).token;
    };
  }
  return null;
}

export function connect(screen, session, config) {
  const getToken = tokenSource(screen, session, config) || undefined;
  return relevo.connect({ token: session.token, getToken });
}

/** The top bar: app name, sections, the live connection indicator, the user, Salir. */
export function topbar(screen, session, rv, { nav = [], role = "" } = {}) {
  const s = ui.shell({ app: "Cargue", nav, user: { name: session.name, role }, home: "/cargue/" });
  relevo.indicator(s.conn, rv);
  const out = ui.h("button", { type: "button", class: "btn btn-ghost btn-sm", title: "Cerrar sesión", onclick: () => logout(screen) },
    ui.icon("logout"), ui.h("span", { class: "hide-phone" }, "Salir"));
  s.el.querySelector(".topbar-end").append(out);
  return s;
}

/** A Spanish sentence for an API error. */
export function errorText(err) {
  const b = (err && err.body) || {};
  if (b.mensaje) return b.mensaje;
  switch (err && err.code) {
    case "network":
      return "Sin conexión con el servidor.";
    case "unauthorized":
    case "token_expired":
      return "Tu sesión venció. Vuelve a entrar.";
    case "forbidden":
      return "Tu usuario no puede hacer esto.";
    case "not_found":
      return "Ese producto ya no está en la plantilla.";
    case "conflict":
      return "La fila cambió mientras tanto; la pantalla ya muestra lo actual.";
    case "rate_limited":
      return "Demasiadas marcas seguidas; espera un momento.";
    default:
      return err && err.message ? `Error: ${err.message}` : "Error inesperado.";
  }
}

const DIAS = { LUNES: "Lunes", MARTES: "Martes", MIERCOLES: "Miércoles", JUEVES: "Jueves", VIERNES: "Viernes", SABADO: "Sábado", DOMINGO: "Domingo" };

/** "Martes 2 de diciembre" from the config's dia and fecha. */
export function dayLabel(config) {
  const d = new Date(`${config.fecha}T12:00:00`);
  return `${DIAS[config.dia] || config.dia} ${d.toLocaleDateString("es", { day: "numeric", month: "long" })}`;
}

/** Rows of a plantilla in their order. */
export const byOrder = (a, b) => (a.orden ?? 0) - (b.orden ?? 0) || Number(a.id) - Number(b.id);
