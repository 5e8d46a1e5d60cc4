// What every page of the leads app shares: the session (token), calls to
// /api/leads, the connection, the top bar, and Spanish texts for events and
// error codes.

import * as relevo from "/relevo.js";
import * as ui from "/static/ui/ui.js";

const SESSION_KEY = "relevo.leads.session";
const TAB_KEY = "relevo.leads.tab";

export const ROLE_LABEL = { gtr: "GTR", asesor: "Asesor", admin: "Admin" };
export const HOME = { gtr: "/leads/gtr", admin: "/leads/gtr", asesor: "/leads/asesor" };

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

function fromToken(token) {
  const c = claims(token);
  if (!c || !c.sub) return null;
  const roles = Array.isArray(c.roles) ? c.roles : c.roles ? [c.roles] : [];
  return { token, user: String(c.sub), name: c.name || String(c.sub), roles, exp: c.exp || null };
}

/** The session of this tab: a token handed over in the URL fragment
 * (#token=…, then removed from the address bar), or the one kept in
 * sessionStorage. Null when there is none or it has expired. */
export function loadSession() {
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get("token")) {
    const s = fromToken(hash.get("token"));
    history.replaceState(null, "", location.pathname + location.search);
    if (s) saveSession(s.token);
  }
  let s = null;
  try {
    s = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
  } catch (_) {
    s = null;
  }
  if (!s || !s.token) return null;
  if (s.exp && s.exp * 1000 < Date.now()) return null;
  return s;
}

export function saveSession(token, extra = {}) {
  const s = fromToken(token);
  if (!s) throw new Error("token inválido");
  const session = { ...s, ...extra };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  return session;
}

export function logout() {
  sessionStorage.removeItem(SESSION_KEY);
  location.href = "/leads/login";
}

/** A stable id for this browser tab (survives a reload, not a new tab). */
export function tabId() {
  let id = sessionStorage.getItem(TAB_KEY);
  if (!id) {
    id = `t${Math.random().toString(36).slice(2, 10)}`;
    sessionStorage.setItem(TAB_KEY, id);
  }
  return id;
}

/** The page needs a session with one of `roles`; otherwise go to the login. */
export function requireSession(roles) {
  const s = loadSession();
  if (!s) {
    location.replace(`/leads/login?next=${encodeURIComponent(location.pathname)}`);
    return null;
  }
  if (!s.roles.some((r) => roles.includes(r))) {
    location.replace(`/leads/login?rol=${encodeURIComponent(s.roles.join(","))}&denied=${encodeURIComponent(location.pathname)}`);
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
  }
}

/** Call the server: JSON in and out, the session's token, errors as ApiError. */
export async function api(path, { method = "GET", body, token, raw, contentType } = {}) {
  const headers = {};
  const t = token === undefined ? loadSession()?.token : token;
  if (t) headers.Authorization = `Bearer ${t}`;
  let payload;
  if (raw !== undefined) {
    payload = raw;
    headers["Content-Type"] = contentType || "text/csv";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["Content-Type"] = "application/json";
  }
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload, cache: "no-store" });
  } catch (err) {
    throw new ApiError(0, { code: "network", message: err.message });
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

let configPromise = null;
export function getConfig() {
  configPromise = configPromise || api("/api/leads/config", { token: null });
  return configPromise;
}

/** A relevo connection with this session's token; in demo mode, and where the
 * deployment configured `token_url`, a fresh token is fetched when it runs out. */
export function connect(session, config) {
  let getToken;
  if (config.token_url) {
    getToken = async () => {
      const res = await fetch(config.token_url, { credentials: "include", cache: "no-store" });
      const { token } = await res.json();
      saveSession(token);
      return token;
    };
  } else if (config.demo) {
    getToken = async () => {
      const { token } = await api("/api/leads/demo/token", { method: "POST", body: { user: session.user }, token: null });
      saveSession(token, { name: session.name });
      return token;
    };
  }
  return relevo.connect({ token: session.token, getToken });
}

/** The top bar: app name, the user's chip, the live connection indicator, Salir. */
export function topbar(session, rv, { nav = [] } = {}) {
  const roleLabel = session.roles.map((r) => ROLE_LABEL[r] || r).join(" · ");
  const s = ui.shell({ app: "Leads", nav, user: { name: session.name, role: roleLabel }, home: "/leads/" });
  relevo.indicator(s.conn, rv);
  const out = ui.h("button", { type: "button", class: "btn btn-ghost btn-sm", title: "Cerrar sesión", onclick: logout }, ui.icon("logout"), ui.h("span", { class: "hide-phone" }, "Salir"));
  s.el.querySelector(".topbar-end").append(out);
  if (session.name === session.user) {
    // a token without a "name" claim: take the name from the directory
    api("/api/leads/me").then((me) => s.setUser({ name: me.nombre, role: roleLabel })).catch(() => {});
  }
  return s;
}

/** An offline banner under the top bar while the connection is down. */
export function offlineBanner(rv) {
  const text = ui.h("span");
  const el = ui.h("div", { class: "banner banner-warning", role: "status", hidden: true }, ui.icon("alert"), text);
  document.querySelector("header.topbar").after(el);
  rv.on("state", (state, status) => {
    if (state === "connected") {
      el.hidden = true;
      return;
    }
    if (!status.everConnected) return;
    el.hidden = false;
    text.textContent = state === "connecting"
      ? "Reconectando… Los cambios se mostrarán en cuanto vuelva la conexión."
      : "Sin conexión con el servidor. Reintentando…";
  });
}

// -- texts ------------------------------------------------------------------------

export const EVENT_TEXT = {
  "lead.created": "Lead creado",
  "lead.updated": "Datos del cliente editados",
  CLIENT_REASSIGNED: "Derivado",
  CLIENT_LOCKED: "Wizard abierto (bloqueado)",
  CLIENT_UNLOCKED: "Wizard cerrado (desbloqueado)",
  CLIENT_IN_GESTION: "En gestión",
  CLIENT_UPDATED: "Paso del wizard guardado",
  CLIENT_ACTIVITY: "Actividad del asesor",
  CLIENT_COMPLETED: "Gestión completada",
  CLIENT_RETURNED_TO_GTR: "Volvió al GTR",
};

export const REASON_TEXT = {
  assigned: "asignado",
  reassigned: "reasignado",
  forced: "reasignado con el wizard abierto",
  released: "cerrado por el asesor",
  expired: "bloqueo vencido",
  "timer:timeout_no_gestionado": "sin actividad del asesor",
};

/** A Spanish sentence for an error of the API, given what the user tried. */
export function errorText(err, names = {}) {
  const b = (err && err.body) || {};
  const who = b.holder_name || names[b.holder] || b.holder;
  switch (err && err.code) {
    case "locked":
      if (b.same_user) return "Ya tienes este lead abierto en otra pestaña.";
      if (who) return `Lo tiene abierto ${who}.`;
      return "Tu bloqueo del lead venció; vuelve a abrirlo.";
    case "forbidden":
      return "Este lead no está asignado a ti (o tu rol no permite esta acción).";
    case "conflict":
      if (b.reason === "already_completed" || b.state === "terminado") return "Este lead ya fue terminado.";
      if (b.state === "no_gestionado") return "El lead volvió al GTR por falta de actividad.";
      return `El lead cambió de estado (${ui.statusLabel(b.state) || "otro estado"}); la pantalla ya muestra el actual.`;
    case "not_found":
      return "El lead no existe (o fue eliminado).";
    case "bad_request":
      if (b.reason === "unknown_asesor") return "Ese asesor no existe.";
      if (b.reason === "inactive_asesor") return "Ese asesor está desactivado.";
      if (b.reason === "not_asesor") return "Ese usuario no es asesor.";
      if (b.reason === "exists") return `Ya hay un lead abierto con ese teléfono (#${b.ref}).`;
      if (b.field === "telefono") return "Teléfono inválido: de 6 a 15 dígitos.";
      if (b.field === "nombre") return "Falta el nombre.";
      if (b.field === "documento") return "Documento inválido: de 5 a 20 letras o dígitos.";
      if (b.field === "tipificacion") return "Elige una tipificación.";
      return `Datos inválidos: ${err.message}`;
    case "unauthorized":
    case "token_expired":
      return "Tu sesión venció. Vuelve a iniciar sesión.";
    case "network":
      return "Sin conexión con el servidor. Inténtalo de nuevo.";
    case "rate_limited":
      return "Demasiadas acciones seguidas; espera un momento.";
    default:
      return err && err.message ? `Error: ${err.message}` : "Error inesperado.";
  }
}

/** Labels for the wizard's codes, from the server's config. */
export function labels(list) {
  return Object.fromEntries((list || []).map((x) => [x.code, x.label]));
}

/** "1 derivado", "3 derivados". */
export function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

/** Whether a lead's lease is held right now. */
export function leaseHolder(row) {
  const l = row && row.lease;
  return l && l.expires_at * 1000 > Date.now() ? l.holder : null;
}

/** The time the lead returns to the GTR if nobody touches it (ms), or null. */
export function deadline(row, config) {
  if (row.state !== "derivado" && row.state !== "en_gestion") return null;
  const since = row.last_activity || row.derivado_at || row.updated_at;
  return since ? since + config.timeout * 1000 : null;
}
