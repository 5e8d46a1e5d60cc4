// The one login page: /login (relevo's sign-in, every app) and /<app>/login
// (also /static/ui/login.html?app=<app>).
//
// Where the server has sign-in (accounts), it shows a username/password form:
// POST /auth/login sets an HttpOnly session cookie and the page takes a short
// token from GET /auth/token into the app's session store, then lands on the
// page of the person's role (or `?next=`, a path of this server only). A
// browser already signed in goes straight on. In demo mode it lists the app's
// demo users too: picking one signs in as that user with the demo password
// (through the same /auth/login). Where the deployment set `token_url`, it
// fetches the signed-in user's token there and goes on; otherwise it says
// where tokens come from.
//
// What differs per app — names, texts, how users are grouped, where each role
// lands, where the session is kept — is the `LOGIN` object the app's
// /<app>/static/common.js exports (docs/apps/README.md describes it).

import * as relevo from "/relevo.js";
import {
  api, ApiError, changePassword, fetchToken, mustChangePassword, sessionOf, sessionToken, signIn as signInWith,
  signOut as endSession,
} from "./session.js";
import * as ui from "./ui.js";

const params = new URLSearchParams(location.search);
const first = location.pathname.split("/")[1];
const app = params.get("app") || (first === "login" || first === "static" ? "" : first);
if (app && !/^[a-z][a-z0-9_-]*$/.test(app)) throw new Error(`no app in this URL: ${location.pathname}`);
const GENERIC = {
  name: "relevo",
  heading: "Entrar",
  subtitle: "Entra con tu usuario y contraseña: llegarás a la pantalla de tu rol.",
  homes: {},
  stores: [],
  who: (s) => s.name,
};
const { LOGIN } = app ? await import(`/${app}/static/common.js`) : { LOGIN: GENERIC };

/** `next` when it is a path of this server (never another site). */
function localPath(value) {
  if (!value || !value.startsWith("/") || value.startsWith("//") || value.includes("\\")) return null;
  if (/[\u0000-\u001f\u007f]/.test(value)) return null;
  return new URL(value, location.origin).origin === location.origin ? value : null;
}

const content = document.getElementById("content");
const notice = document.getElementById("notice");
document.title = `${LOGIN.name} · Entrar`;
if (app) document.head.append(ui.h("link", { rel: "stylesheet", href: `/${app}/static/${LOGIN.css || `${app}.css`}` }));
document.getElementById("heading").textContent = LOGIN.heading;
document.getElementById("subtitle").textContent = LOGIN.subtitle;

// An anonymous connection, so this page shows the server's reachability too.
const rv = relevo.connect();
// relevo's own sign-in names no app: the brand already reads "relevo".
const shell = ui.shell({ app: app ? LOGIN.name : "", home: app ? `/${app}/` : "/" });
relevo.indicator(shell.conn, rv);

/** Where `session` goes: the page it was sent here from (`?next=`) when one of
 * its roles lands there, else its role's page. */
function destination(session) {
  const homes = session.roles.map((r) => LOGIN.homes[r]).filter(Boolean);
  const next = localPath(params.get("next"));
  if (next && homes.includes(next)) return next;
  return homes[0] || location.pathname;
}

/** Keep `token` where the app keeps the session of its user's role; where to go. */
function signIn(token, extra = {}) {
  const session = sessionOf(token);
  if (!session) throw new Error("token inválido");
  return destination(LOGIN.storeFor(session).save(token, extra));
}

/** Signed in (the cookie): take a token of the session and go on. Where to go,
 * or null when this browser has no sign-in session (or sign-in is off). */
async function fromSession(signedIn = null, extra = {}) {
  if (!app) {
    // /login: the person's home (or `next`); the app's page takes its own token.
    const who = signedIn || (await sessionToken().catch(() => null));
    return who ? localPath(params.get("next")) || who.next || who.home || null : null;
  }
  const res = await sessionToken(app).catch(() => null);
  if (!res) return null;
  const s = sessionOf(res.token);
  if (s && s.roles.some((r) => LOGIN.homes[r])) return signIn(res.token, extra);
  // no role in this app: the person's own home, if it is elsewhere
  return res.home && res.home !== location.pathname ? res.home : null;
}

async function submit(username, password, button, error) {
  error.hidden = true;
  try {
    const res = await ui.busy(button, signInWith(username, password, localPath(params.get("next")) || ""));
    if (res.must_change_password) {
      // A temporary password (a new person, a reset): a new one first.
      content.replaceChildren(changeForm(password, res));
      document.getElementById("change-new").focus();
      return;
    }
    const to = await fromSession(res);
    location.href = to || res.next || res.home || "/";
  } catch (err) {
    error.hidden = false;
    error.textContent = err instanceof ApiError ? err.mensaje || err.message : String(err);
  }
}

async function pick(user, button, password) {
  try {
    const res = await ui.busy(button, signInWith(user.id, password));
    // What the app keeps of the picked person (a turnos operator's mesa).
    const to = await fromSession(res, LOGIN.extra ? LOGIN.extra(user) : { name: user.nombre });
    location.href = to || res.home || "/";
  } catch (err) {
    ui.toast(err.mensaje || err.message, { kind: "danger", title: "No se pudo entrar" });
  }
}

/** The change-password step: after signing in with a temporary password
 * (`current` is the one just typed), or on arriving with such a session
 * (`current` null: asked for). Then on to the person's screen. */
function changeForm(current, signedIn = null, temporary = true) {
  const error = ui.h("p", { class: "error", role: "alert", hidden: true });
  const field = (id, label, autocomplete) => {
    const input = ui.h("input", { class: "input", id, type: "password", autocomplete, required: true, minlength: 10 });
    return [input, ui.h("div", { class: "field" }, ui.h("label", { for: id }, label), input)];
  };
  const [old, oldField] = field("change-current", temporary ? "Contraseña actual (la temporal)" : "Contraseña actual", "current-password");
  const [fresh, freshField] = field("change-new", "Contraseña nueva", "new-password");
  const [again, againField] = field("change-again", "Repite la contraseña nueva", "new-password");
  const button = ui.h("button", { type: "submit", class: "btn btn-primary", id: "change-submit" }, "Guardar y entrar");
  const form = ui.h("form", { class: "card-body stack", id: "change-form", onsubmit: async (e) => {
    e.preventDefault();
    error.hidden = true;
    if (fresh.value !== again.value) {
      error.hidden = false;
      error.textContent = "Las dos contraseñas nuevas no coinciden.";
      again.focus();
      return;
    }
    try {
      const res = await ui.busy(button, changePassword(current ?? old.value, fresh.value));
      ui.toast("Contraseña cambiada.", { kind: "success" });
      const to = await fromSession(signedIn);
      location.href = to || signedIn?.next || res.home || "/";
    } catch (err) {
      error.hidden = false;
      error.textContent = err instanceof ApiError ? err.mensaje || err.message : String(err);
    }
  } },
    ui.h("p", { class: "muted" }, temporary
      ? "Entraste con una contraseña temporal. Elige una nueva de al menos 10 caracteres: solo tú la sabrás."
      : "Elige una contraseña nueva de al menos 10 caracteres. Se cerrarán tus otras sesiones abiertas."),
    current == null ? oldField : null,
    freshField,
    againField,
    error,
    ui.h("div", { class: "row" }, button));
  return ui.h("section", { class: "card" }, ui.h("div", { class: "card-header" }, ui.h("h2", "Cambia tu contraseña")), form);
}

/** The username/password form. */
function passwordForm() {
  const error = ui.h("p", { class: "error", role: "alert", hidden: true });
  const username = ui.h("input", { class: "input", id: "login-user", name: "username", autocomplete: "username", autocapitalize: "none", spellcheck: "false", required: true });
  const password = ui.h("input", { class: "input", id: "login-pass", name: "password", type: "password", autocomplete: "current-password", required: true });
  const button = ui.h("button", { type: "submit", class: "btn btn-primary", id: "login-submit" }, "Entrar");
  const form = ui.h("form", { class: "card-body stack", id: "login-form", method: "post", action: "/auth/login", onsubmit: (e) => {
    e.preventDefault();
    submit(username.value.trim(), password.value, button, error);
  } },
    ui.h("div", { class: "field" }, ui.h("label", { for: "login-user" }, "Usuario"), username),
    ui.h("div", { class: "field" }, ui.h("label", { for: "login-pass" }, "Contraseña"), password),
    error,
    ui.h("div", { class: "row" }, button));
  return ui.h("section", { class: "card" }, ui.h("div", { class: "card-header" }, ui.h("h2", "Entrar con tu usuario")), form);
}

/** Single sign-on: a link to the provider, back through /auth/oidc/callback. */
function ssoCard({ label }) {
  const next = localPath(params.get("next"));
  const href = `/auth/oidc/start${next ? `?${new URLSearchParams({ next })}` : ""}`;
  return ui.h("section", { class: "card" }, ui.h("div", { class: "card-body stack" },
    ui.h("a", { class: "btn btn-primary btn-lg", id: "login-sso", href }, ui.icon("key"), label),
    ui.h("p", { class: "muted small" }, "Tu empresa comprueba quién eres; relevo no ve tu contraseña.")));
}

const SIGN_IN_ERRORS = {
  oidc_denied: "Cancelaste el inicio de sesión en el proveedor de tu empresa.",
  oidc_no_roles: "Tu cuenta de empresa no tiene acceso a ninguna aplicación de relevo. Pide acceso a un administrador.",
  oidc_no_account: "Tu cuenta de empresa aún no tiene usuario en relevo. Pide a un administrador que lo cree.",
  oidc_disabled: "Tu usuario está desactivado. Habla con un administrador.",
  oidc_state: "El inicio de sesión caducó o llegó incompleto. Vuelve a intentarlo.",
  oidc_unavailable: "No se pudo contactar con el proveedor de inicio de sesión de tu empresa. Vuelve a intentarlo en unos minutos.",
  oidc_failed: "No se pudo completar el inicio de sesión con tu empresa. Vuelve a intentarlo.",
};

function userCard(u, password) {
  const avatar = u.color ? { background: `${u.color}1f`, color: u.color } : null;
  const btn = ui.h("button", { type: "button", class: "user-pick", "data-user": u.id, onclick: () => pick(u, btn, password) },
    ui.h("span", { class: "avatar", style: avatar }, ui.initials(u.nombre)),
    ui.h("span", { class: "grow" },
      ui.h("span", { class: "user-pick-name" }, u.nombre),
      ui.h("span", { class: "user-pick-role" }, LOGIN.describe(u))),
    ui.icon("chevron"));
  return btn;
}

function group({ title, meta, users, color }, password) {
  if (!users.length) return null;
  const dot = color !== undefined ? ui.h("span", { class: "tenant-dot", style: color ? { background: color } : null }) : null;
  return ui.h("section", { class: "card" },
    ui.h("div", { class: "card-header" }, ui.h("h2", dot, title), ui.h("span", { class: "meta" }, meta)),
    ui.h("div", { class: "card-body user-picks" }, users.map((u) => userCard(u, password))));
}

async function signOut() {
  await endSession();
  LOGIN.stores.forEach((store) => store.clear());
  location.href = location.pathname;
}

/** Sessions already open in this browser: continue with one, or leave. */
function openSessions() {
  const open = LOGIN.stores.map((store) => store.load()).filter(Boolean);
  if (!open.length || params.get("denied")) return;
  const title = open.length === 1 ? `Sesión abierta: ${LOGIN.who(open[0])}` : "Sesiones abiertas en este navegador";
  notice.append(ui.h("div", { class: "alert alert-info" }, ui.icon("user"),
    ui.h("div", { class: "grow" }, ui.h("div", { class: "alert-title" }, title),
      ui.h("div", { class: "row", style: { marginTop: "var(--s-2)" } },
        open.map((s) => ui.h("a", { class: open.length === 1 ? "btn btn-primary btn-sm" : "btn btn-sm", href: destination(s) },
          open.length === 1 ? "Continuar" : LOGIN.who(s))),
        ui.h("button", { type: "button", class: "btn btn-sm", onclick: signOut }, "Salir")))));
}

function notices() {
  const error = SIGN_IN_ERRORS[params.get("error")];
  if (error) {
    notice.append(ui.h("div", { class: "alert alert-danger", role: "alert", id: "login-error" }, ui.icon("alert"),
      ui.h("div", ui.h("div", { class: "alert-title" }, "No se pudo entrar"), error)));
  }
  if (params.get("denied")) {
    notice.append(ui.h("div", { class: "alert alert-warning" }, ui.icon("alert"),
      ui.h("div", ui.h("div", { class: "alert-title" }, "Sin acceso a esa pantalla"),
        `Tu rol (${params.get("rol") || "sin rol"}) no puede abrir ${params.get("denied")}. Entra con otro usuario.`)));
  } else if (params.get("next")) {
    notice.append(ui.h("div", { class: "alert alert-warning" }, ui.icon("alert"),
      ui.h("div", ui.h("div", { class: "alert-title" }, "Entra para continuar"),
        `${params.get("next")} necesita un usuario con acceso a esa pantalla.`)));
  }
  openSessions();
}

/** Whether the server runs `relevo demo` (its /demo route exists only then). */
async function demoServer() {
  const res = await fetch("/demo", { method: "HEAD", redirect: "manual" }).catch(() => null);
  return Boolean(res) && res.status !== 404;
}

async function main() {
  notices();
  // Sent here by a page (`next`) while signed in (its token ran out, or it is
  // another app's page): straight on with a fresh token. Not when sent back for
  // lack of a role; on /login, whenever signed in.
  const wantsChange = params.get("cambiar") === "1"; // "Cambiar mi contraseña" of a signed-in page
  if (!params.get("denied") && !wantsChange && (params.get("next") || !app)) {
    const to = await fromSession();
    if (to && to !== location.pathname) {
      location.replace(to);
      return;
    }
  }
  const config = app ? await api(`/api/${app}/config`) : {};
  let pending = false;
  let signedIn = false;
  const signInOn = await sessionToken(app).then(() => { signedIn = true; return true; }, (err) => {
    pending = mustChangePassword(err);
    return err.status !== 404;
  });
  content.removeAttribute("aria-busy");
  if (pending || (wantsChange && signedIn)) {
    // Signed in with a temporary password that was never changed, or asked to change it.
    content.replaceChildren(changeForm(null, null, pending));
    window[`__${app || "relevo"}Ready`] = true;
    return;
  }
  if (config.token_url) {
    try {
      location.href = signIn(await fetchToken(config.token_url));
      return;
    } catch (_) {
      // no session at the deployment's backend: fall through
    }
  }
  const parts = [];
  if (signInOn) {
    const methods = await api("/auth/methods").catch(() => ({}));
    if (methods.oidc) parts.push(ssoCard(methods.oidc));
    parts.push(passwordForm());
  }
  if (signInOn && !app && (await demoServer())) {
    // relevo demo: its admin (an account like any other) opens /admin/personas.
    parts.push(ui.h("div", { class: "alert alert-info", id: "demo-admin" }, ui.icon("info"),
      ui.h("div", ui.h("div", { class: "alert-title" }, "Demostración"),
        "Para gestionar personas, entra como «admin» con la contraseña de demostración «relevo-demo».")));
  }
  if (config.demo) {
    const { users, password } = await api(`/api/${app}/demo/users`);
    const [title, text] = LOGIN.demo;
    const hint = password ? ` Todos entran con la contraseña de demostración «${password}».` : "";
    parts.push(
      ui.h("div", { class: "alert alert-info" }, ui.icon("info"),
        ui.h("div", ui.h("div", { class: "alert-title" }, title), text + hint)),
      ...LOGIN.groups(users).map((g) => group(g, password)),
    );
  }
  if (!parts.length) {
    const [title, text] = LOGIN.elsewhere || ["Sin acceso configurado", "Esta instalación no tiene inicio de sesión."];
    parts.push(ui.h("section", { class: "card" }, ui.h("div", { class: "card-body" },
      ui.emptyState({ icon: "key", title, text }))));
  }
  content.replaceChildren(...parts);
  window[`__${app || "relevo"}Ready`] = true;
}

main().catch((err) => {
  content.replaceChildren(ui.h("div", { class: "alert alert-danger" }, ui.icon("danger"), ui.h("div", `No se pudo cargar: ${err.message}`)));
});
