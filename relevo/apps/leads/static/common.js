// What every page of the leads app shares, on the UI kit's session module:
// where the session is kept, calls to /api/leads, the connection, the top bar,
// what the login page shows, and Spanish texts for events and error codes.

import * as relevo from "/relevo.js";
import * as session from "/static/ui/session.js";
import * as ui from "/static/ui/ui.js";

const TAB_KEY = "relevo.leads.tab";
ui.defineStatus({ agendado: ["Agendado", "info"] });
const store = session.sessionStore("relevo.leads.session");

export const ROLE_LABEL = { gtr: "GTR", asesor: "Asesor", admin: "Admin" };
/** The asesor's pages, for the top bar (`current`: the page's own path). */
export const ASESOR_NAV = (current) => [
  { label: "Mis leads", href: "/leads/asesor", icon: "inbox" },
  { label: "Historial", href: "/leads/historial", icon: "clock" },
].map((n) => ({ ...n, current: n.href === current }));
export const HOME = { gtr: "/leads/gtr", admin: "/leads/gtr", asesor: "/leads/asesor" };

/** The session of this tab: a token handed over as #token=…, or the kept one. */
export const loadSession = () => store.load();
/** Keep a token (a page of your own on this origin may hand it over this way). */
export const saveSession = (token, extra) => store.save(token, extra);
/** The page needs a session with one of `roles`; otherwise to the login. */
export const requireSession = (roles) => store.require(roles, "/leads/login");

export async function logout() {
  await session.signOut();
  store.clear();
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

/** The API with this tab's token (`token: null`: none). */
export const api = (path, opts = {}) => session.api(path, { token: store.load()?.token, ...opts });

/** What the one login page (/static/ui/login.js) needs to know of this app. */
export const LOGIN = {
  name: "Leads",
  heading: "Seguimiento de leads",
  subtitle: "El GTR deriva los leads; cada asesor los gestiona antes de que vuelvan a la bandeja.",
  homes: HOME,
  stores: [store],
  storeFor: () => store,
  who: (s) => s.name,
  describe: (u) => `${ROLE_LABEL[u.rol] || u.rol} · usuario ${u.id}`,
  groups: (users) => [
    { title: "GTR", meta: "Deriva y supervisa", users: users.filter((u) => u.rol === "gtr") },
    { title: "Asesores", meta: "Gestionan sus leads", users: users.filter((u) => u.rol === "asesor") },
    { title: "Administración", meta: "GTR y página de administración", users: users.filter((u) => u.rol === "admin") },
  ],
  demo: ["Modo demostración", "Elige un usuario: cada uno recibe un token de desarrollo. Abre el GTR y un asesor en ventanas distintas para ver los cambios en vivo."],
  elsewhere: ["Entra desde el portal de tu empresa", "Esta instalación no usa el acceso de demostración: tu sistema abre esta pantalla con tu sesión (un token)."],
};

let configPromise = null;
export function getConfig() {
  configPromise = configPromise || api("/api/leads/config", { token: null });
  return configPromise;
}

/** A relevo connection with this session's token; in demo mode, and where the
 * deployment configured `token_url`, a fresh token is fetched when it runs out. */
export function connect(s, config) {
  const getToken = session.tokenSource("leads", config, s, (token) => store.save(token).token);
  return relevo.connect({ token: s.token, getToken });
}

/** The top bar: app name, the user's chip, the live connection indicator, Salir. */
export function topbar(s, rv, { nav = [] } = {}) {
  const roleLabel = s.roles.map((r) => ROLE_LABEL[r] || r).join(" · ");
  const bar = ui.shell({ app: "Leads", nav, user: { name: s.name, role: roleLabel }, home: "/leads/", onLogout: logout });
  relevo.indicator(bar.conn, rv);
  if (s.name === s.user) {
    // a token without a "name" claim: take the name from the directory
    api("/api/leads/me").then((me) => bar.setUser({ name: me.nombre, role: roleLabel })).catch(() => {});
  }
  return bar;
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
  CLIENT_EDITED: "Datos editados",
  CLIENT_CALLBACK_SCHEDULED: "Volver a llamar: agendado",
  CLIENT_CALLBACK_DUE: "Hora de volver a llamar",
};

export const REASON_TEXT = {
  assigned: "asignado",
  reassigned: "reasignado",
  forced: "reasignado con el wizard abierto",
  released: "cerrado por el asesor",
  expired: "bloqueo vencido",
  "timer:timeout_no_gestionado": "sin actividad del asesor",
  "timer:callback": "llegó la hora agendada",
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
      if (b.field === "notas") return "Las notas admiten hasta 2000 caracteres.";
      if (b.field === "callback_at") {
        if (b.reason === "too_far") return "La llamada puede agendarse hasta 90 días después.";
        return "Elige una fecha y hora al menos un minuto después de ahora.";
      }
      if (b.field === "ids") return "Selecciona entre 1 y 200 leads.";
      return `Datos inválidos: ${err.message}`;
    default:
      return session.errorText(err);
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
