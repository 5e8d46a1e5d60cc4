// What the inbox pages share: the agent's session (per tab: two tenants can
// be open side by side), calls to /api/inbox, the connection, the top bar,
// statuses and Spanish error texts.

import * as relevo from "/relevo.js";
import * as ui from "/static/ui/ui.js";

const SESSION_KEY = "relevo.inbox.session";

ui.defineStatus({
  abierta: ["Abierta", "info"],
  resuelta: ["Resuelta", "success"],
  en_cola: ["En cola", "neutral"],
  enviando: ["Enviando", "warning", true],
  completado: ["Completado", "success"],
  cancelado: ["Cancelado", "danger"],
});

export function claims(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (_) {
    return null;
  }
}

export function saveSession(token, extra = {}) {
  const c = claims(token);
  if (!c || !c.sub) throw new Error("token inválido");
  const roles = Array.isArray(c.roles) ? c.roles : c.roles ? [c.roles] : [];
  const old = loadRaw();
  const s = { ...(old && old.user === String(c.sub) ? old : {}), token, user: String(c.sub), name: c.name || String(c.sub), roles, tenant: c.tenant || "", exp: c.exp || null, ...extra };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
  return s;
}

function loadRaw() {
  try {
    return JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
  } catch (_) {
    return null;
  }
}

/** This tab's session: a token handed over in the URL fragment (#token=…) or the stored one. */
export function loadSession() {
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get("token")) {
    history.replaceState(null, "", location.pathname + location.search);
    try {
      saveSession(hash.get("token"));
    } catch (_) {
      // unreadable: keep the stored session
    }
  }
  const s = loadRaw();
  if (!s || !s.token || !s.tenant) return null;
  if (s.exp && s.exp * 1000 < Date.now()) return null;
  return s;
}

export function logout() {
  sessionStorage.removeItem(SESSION_KEY);
  location.href = "/inbox/login";
}

export function requireSession() {
  const s = loadSession();
  if (!s || !s.roles.some((r) => r === "agente" || r === "supervisor")) {
    location.replace(`/inbox/login?next=${encodeURIComponent(location.pathname)}`);
    return null;
  }
  return s;
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body.mensaje || body.message || `HTTP ${status}`);
    this.status = status;
    this.code = body.code || `http_${status}`;
    this.body = body;
  }
}

export async function api(path, { method = "GET", body, token } = {}) {
  const headers = {};
  const t = token === undefined ? loadRaw()?.token : token;
  if (t) headers.Authorization = `Bearer ${t}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store" });
  } catch (err) {
    throw new ApiError(0, { code: "network", mensaje: "Sin conexión con el servidor.", message: err.message });
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

let configPromise = null;
export function getConfig() {
  configPromise = configPromise || api("/api/inbox/config", { token: null });
  return configPromise;
}

export function connect(session, config) {
  let getToken;
  if (config.token_url) {
    getToken = async () => {
      const res = await fetch(config.token_url, { credentials: "include", cache: "no-store" });
      return saveSession((await res.json()).token).token;
    };
  } else if (config.demo) {
    getToken = async () => {
      const { token } = await api("/api/inbox/demo/token", { method: "POST", body: { user: session.user }, token: null });
      return saveSession(token).token;
    };
  }
  return relevo.connect({ token: session.token, getToken });
}

/** The top bar: Bandeja + the tenant, sections, the connection, the agent, Salir. */
export function topbar(session, rv, current) {
  const nav = [
    { label: "Conversaciones", href: "/inbox/", icon: "message", current: current === "inbox" },
    { label: "Envío masivo", href: "/inbox/masivo", icon: "send", current: current === "masivo" },
  ];
  const role = session.roles.includes("supervisor") ? "Supervisor" : "Agente";
  const s = ui.shell({ app: "Bandeja", nav, user: { name: session.name, role }, home: "/inbox/" });
  relevo.indicator(s.conn, rv);
  const tenant = ui.h("span", { class: "tenant-chip", title: `Empresa: ${session.tenantName || session.tenant}`, "data-tenant": session.tenant },
    ui.h("span", { class: "tenant-dot", style: session.color ? { background: session.color } : null }), session.tenantName || session.tenant);
  s.el.querySelector(".brand").after(tenant);
  const out = ui.h("button", { type: "button", class: "btn btn-ghost btn-sm", title: "Cerrar sesión", onclick: logout },
    ui.icon("logout"), ui.h("span", { class: "hide-phone" }, "Salir"));
  s.el.querySelector(".topbar-end").append(out);
  return s;
}

/** The page's "who am I": name, tenant name (kept in the session for the top bar). */
export async function whoami(session) {
  try {
    const me = await api("/api/inbox/me");
    return saveSession(session.token, { name: me.nombre || session.name, tenantName: me.tenant_nombre || session.tenant });
  } catch (_) {
    return session;
  }
}

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
      return "Esa conversación no existe.";
    default:
      return err && err.message ? `Error: ${err.message}` : "Error inesperado.";
  }
}

/** "+51987654321" → "+51 987 654 321". */
export function fmtPhone(p) {
  const m = /^\+?(\d{2})(\d{3})(\d{3})(\d{3,})$/.exec(p || "");
  return m ? `+${m[1]} ${m[2]} ${m[3]} ${m[4]}` : p || "";
}
