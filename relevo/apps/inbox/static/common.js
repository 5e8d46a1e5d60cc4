// What the inbox pages share, on the UI kit's session module: the agent's
// session, calls to /api/inbox, the connection, the top bar, what the login
// page shows, statuses and Spanish error texts.

import * as relevo from "/relevo.js";
import * as session from "/static/ui/session.js";
import * as ui from "/static/ui/ui.js";

// One session per tab: two tenants can be open side by side. A session
// without a tenant claim is no agent's.
const store = session.sessionStore("relevo.inbox.session", { valid: (s) => Boolean(s.tenant) });
const ROLE_LABEL = { agente: "Agente", supervisor: "Supervisor" };

ui.defineStatus({
  abierta: ["Abierta", "info"],
  resuelta: ["Resuelta", "success"],
  en_cola: ["En cola", "neutral"],
  enviando: ["Enviando", "warning", true],
  completado: ["Completado", "success"],
  cancelado: ["Cancelado", "danger"],
  error: ["Error", "danger"],
});

export const loadSession = () => store.load();
export const saveSession = (token, extra) => store.save(token, extra);

export async function logout() {
  await session.signOut();
  store.clear();
  location.href = "/inbox/login";
}

export const requireSession = () => store.require(["agente", "supervisor"], "/inbox/login");

/** The API with this tab's token (`token: null`: none). */
export const api = (path, opts = {}) => session.api(path, { token: store.load()?.token, ...opts });

/** The Authorization header of this tab's token (for a fetch that is not JSON). */
export const authHeader = () => ({ Authorization: `Bearer ${store.load()?.token}` });

/** What the one login page (/static/ui/login.js) needs to know of this app. */
export const LOGIN = {
  name: "Bandeja",
  heading: "Bandeja de WhatsApp",
  subtitle: "Cada empresa atiende sus conversaciones en vivo; ninguna ve las de otra.",
  homes: { agente: "/inbox/", supervisor: "/inbox/" },
  stores: [store],
  storeFor: () => store,
  who: (s) => `${s.name} (${s.tenantName || s.tenant})`,
  extra: (u) => ({ name: u.nombre, tenantName: u.tenant_nombre, color: u.color }),
  describe: (u) => `${ROLE_LABEL[u.rol] || u.rol} · ${u.id}`,
  groups: (users) => [...new Map(users.map((u) => [u.tenant, u])).values()].map((t) => ({
    title: t.tenant_nombre, meta: `tenant: ${t.tenant}`, color: t.color || null,
    users: users.filter((u) => u.tenant === t.tenant),
  })),
  demo: ["Modo demostración · WhatsApp simulado", "Elige un agente. Abre agentes de las dos empresas en pestañas distintas: cada una ve solo sus conversaciones."],
  elsewhere: ["Entra desde el CRM de tu empresa", "Esta instalación no usa el acceso de demostración: tu CRM abre /inbox/#token=… con un token que lleva tu empresa (claim tenant)."],
};

let configPromise = null;
export function getConfig() {
  configPromise = configPromise || api("/api/inbox/config", { token: null });
  return configPromise;
}

export function connect(s, config) {
  const getToken = session.tokenSource("inbox", config, s, (token) => store.save(token).token);
  return relevo.connect({ token: s.token, getToken });
}

/** The top bar: Bandeja + the tenant, sections, the connection, the agent, Salir. */
export function topbar(s, rv, current) {
  const nav = [
    { label: "Conversaciones", href: "/inbox/", icon: "message", current: current === "inbox" },
    { label: "Envío masivo", href: "/inbox/masivo", icon: "send", current: current === "masivo" },
  ];
  const role = s.roles.includes("supervisor") ? "Supervisor" : "Agente";
  const bar = ui.shell({ app: "Bandeja", nav, user: { name: s.name, role }, home: "/inbox/", onLogout: logout });
  relevo.indicator(bar.conn, rv);
  const tenant = ui.h("span", { class: "tenant-chip", title: `Empresa: ${s.tenantName || s.tenant}`, "data-tenant": s.tenant },
    ui.h("span", { class: "tenant-dot", style: s.color ? { background: s.color } : null }), s.tenantName || s.tenant);
  bar.el.querySelector(".brand").after(tenant);
  return bar;
}

/** The page's "who am I": name, tenant name (kept in the session for the top bar). */
export async function whoami(s) {
  try {
    const me = await api("/api/inbox/me");
    return store.save(s.token, { name: me.nombre || s.name, tenantName: me.tenant_nombre || s.tenant });
  } catch (_) {
    return s;
  }
}

/** A Spanish sentence for an API error. */
export const errorText = (err) => session.errorText(err, { not_found: "Esa conversación no existe." });

/** "+51987654321" → "+51 987 654 321". */
export function fmtPhone(p) {
  const m = /^\+?(\d{2})(\d{3})(\d{3})(\d{3,})$/.exec(p || "");
  return m ? `+${m[1]} ${m[2]} ${m[3]} ${m[4]}` : p || "";
}
