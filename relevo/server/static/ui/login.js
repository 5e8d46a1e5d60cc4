// The one login page, served as /<app>/login (and /static/ui/login.html?app=<app>).
// In demo mode it lists the app's seeded users: picking one gets a development
// token. Where the deployment set `token_url`, it fetches the signed-in user's
// token there and goes on; otherwise it says where tokens come from.
//
// What differs per app — names, texts, how users are grouped, where each role
// lands, where the session is kept — is the `LOGIN` object the app's
// /<app>/static/common.js exports (docs/apps/README.md describes it).

import * as relevo from "/relevo.js";
import { api, fetchToken, sessionOf } from "./session.js";
import * as ui from "./ui.js";

const params = new URLSearchParams(location.search);
const app = params.get("app") || location.pathname.split("/")[1];
if (!/^[a-z][a-z0-9_-]*$/.test(app)) throw new Error(`no app in this URL: ${location.pathname}`);
const { LOGIN } = await import(`/${app}/static/common.js`);

const content = document.getElementById("content");
const notice = document.getElementById("notice");
document.title = `${LOGIN.name} · Entrar`;
document.head.append(ui.h("link", { rel: "stylesheet", href: `/${app}/static/${LOGIN.css || `${app}.css`}` }));
document.getElementById("heading").textContent = LOGIN.heading;
document.getElementById("subtitle").textContent = LOGIN.subtitle;

// An anonymous connection, so this page shows the server's reachability too.
const rv = relevo.connect();
const shell = ui.shell({ app: LOGIN.name, home: `/${app}/` });
relevo.indicator(shell.conn, rv);

/** Where `session` goes: the page it was sent here from (`?next=`) when one of
 * its roles lands there, else its role's page. */
function destination(session) {
  const homes = session.roles.map((r) => LOGIN.homes[r]).filter(Boolean);
  const next = params.get("next");
  if (next && homes.includes(next)) return next;
  return homes[0] || location.pathname;
}

/** Keep `token` where the app keeps the session of its user's role; where to go. */
function signIn(token, extra = {}) {
  const session = sessionOf(token);
  if (!session) throw new Error("token inválido");
  return destination(LOGIN.storeFor(session).save(token, extra));
}

async function pick(user, button) {
  try {
    const res = await ui.busy(button, api(`/api/${app}/demo/token`, { method: "POST", body: { user: user.id } }));
    location.href = signIn(res.token, LOGIN.extra ? LOGIN.extra(res.user) : { name: res.user.nombre });
  } catch (err) {
    ui.toast(err.mensaje || err.message, { kind: "danger", title: "No se pudo entrar" });
  }
}

function userCard(u) {
  const avatar = u.color ? { background: `${u.color}1f`, color: u.color } : null;
  const btn = ui.h("button", { type: "button", class: "user-pick", "data-user": u.id, onclick: () => pick(u, btn) },
    ui.h("span", { class: "avatar", style: avatar }, ui.initials(u.nombre)),
    ui.h("span", { class: "grow" },
      ui.h("span", { class: "user-pick-name" }, u.nombre),
      ui.h("span", { class: "user-pick-role" }, LOGIN.describe(u))),
    ui.icon("chevron"));
  return btn;
}

function group({ title, meta, users, color }) {
  if (!users.length) return null;
  const dot = color !== undefined ? ui.h("span", { class: "tenant-dot", style: color ? { background: color } : null }) : null;
  return ui.h("section", { class: "card" },
    ui.h("div", { class: "card-header" }, ui.h("h2", dot, title), ui.h("span", { class: "meta" }, meta)),
    ui.h("div", { class: "card-body user-picks" }, users.map(userCard)));
}

function signOut() {
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

async function main() {
  notices();
  const config = await api(`/api/${app}/config`);
  content.removeAttribute("aria-busy");
  if (config.token_url) {
    try {
      location.href = signIn(await fetchToken(config.token_url));
      return;
    } catch (_) {
      // no session at the deployment's backend: fall through to the explanation
    }
  }
  if (!config.demo) {
    const [title, text] = LOGIN.elsewhere;
    content.replaceChildren(ui.h("section", { class: "card" }, ui.h("div", { class: "card-body" },
      ui.emptyState({ icon: "key", title, text }))));
    return;
  }
  const { users } = await api(`/api/${app}/demo/users`);
  const [title, text] = LOGIN.demo;
  content.replaceChildren(
    ui.h("div", { class: "alert alert-info" }, ui.icon("info"),
      ui.h("div", ui.h("div", { class: "alert-title" }, title), text)),
    ...LOGIN.groups(users).map(group),
  );
  window[`__${app}Ready`] = true;
}

main().catch((err) => {
  content.replaceChildren(ui.h("div", { class: "alert alert-danger" }, ui.icon("danger"), ui.h("div", `No se pudo cargar: ${err.message}`)));
});
