// The login page: in demo mode, pick a seeded user and get a development
// token; otherwise explain where tokens come from in a real deployment.

import * as relevo from "/relevo.js";
import * as ui from "/static/ui/ui.js";
import { api, getConfig, HOME, loadSession, logout, ROLE_LABEL, saveSession } from "./common.js";

const params = new URLSearchParams(location.search);
const content = document.getElementById("content");
const notice = document.getElementById("notice");

// An anonymous connection, so this page shows the server's reachability too.
const rv = relevo.connect();
const shell = ui.shell({ app: "Leads", home: "/leads/" });
relevo.indicator(shell.conn, rv);

function destination(roles) {
  const next = params.get("next");
  const home = roles.map((r) => HOME[r]).find(Boolean) || "/leads/login";
  if (next && next.startsWith("/leads/") && roles.some((r) => HOME[r] === next || (r === "admin" && next === "/leads/gtr"))) return next;
  return home;
}

function go(session) {
  location.href = destination(session.roles);
}

async function pick(user, button) {
  try {
    const res = await ui.busy(button, api("/api/leads/demo/token", { method: "POST", body: { user: user.id }, token: null }));
    go(saveSession(res.token, { name: res.user.nombre }));
  } catch (err) {
    ui.toast(err.message, { kind: "danger", title: "No se pudo entrar" });
  }
}

function userCard(u) {
  const btn = ui.h("button", { type: "button", class: "user-pick", "data-user": u.id, onclick: () => pick(u, btn) },
    ui.h("span", { class: "avatar" }, ui.initials(u.nombre)),
    ui.h("span", { class: "grow" },
      ui.h("span", { class: "user-pick-name" }, u.nombre),
      ui.h("span", { class: "user-pick-role" }, `${ROLE_LABEL[u.rol] || u.rol} · usuario ${u.id}`)),
    ui.icon("chevron"));
  return btn;
}

function group(title, text, users) {
  if (!users.length) return null;
  return ui.h("section", { class: "card" },
    ui.h("div", { class: "card-header" }, ui.h("h2", title), ui.h("span", { class: "meta" }, text)),
    ui.h("div", { class: "card-body user-picks" }, users.map(userCard)));
}

async function main() {
  if (params.get("denied")) {
    notice.append(ui.h("div", { class: "alert alert-warning" }, ui.icon("alert"),
      ui.h("div", ui.h("div", { class: "alert-title" }, "Sin acceso a esa pantalla"),
        `Tu rol (${params.get("rol") || "sin rol"}) no puede abrir ${params.get("denied")}. Entra con otro usuario.`)));
  }
  const current = loadSession();
  if (current && !params.get("denied")) {
    notice.append(ui.h("div", { class: "alert alert-info" }, ui.icon("user"),
      ui.h("div", { class: "grow" }, ui.h("div", { class: "alert-title" }, `Sesión abierta: ${current.name}`),
        ui.h("div", { class: "row", style: { marginTop: "var(--s-2)" } },
          ui.h("a", { class: "btn btn-primary btn-sm", href: destination(current.roles) }, "Continuar"),
          ui.h("button", { type: "button", class: "btn btn-sm", onclick: logout }, "Salir")))));
  }
  const config = await getConfig();
  content.removeAttribute("aria-busy");
  if (config.token_url) {
    try {
      const res = await fetch(config.token_url, { credentials: "include", cache: "no-store" });
      if (res.ok) return go(saveSession((await res.json()).token));
    } catch (_) {
      // fall through to the explanation
    }
  }
  if (!config.demo) {
    content.replaceChildren(ui.h("section", { class: "card" }, ui.h("div", { class: "card-body" },
      ui.emptyState({ icon: "key", title: "Entra desde el portal de tu empresa",
        text: "Esta instalación no usa el acceso de demostración: tu sistema abre esta pantalla con tu sesión (un token)." }))));
    return;
  }
  const { users } = await api("/api/leads/demo/users", { token: null });
  content.replaceChildren(
    ui.h("div", { class: "alert alert-info" }, ui.icon("info"),
      ui.h("div", ui.h("div", { class: "alert-title" }, "Modo demostración"),
        "Elige un usuario: cada uno recibe un token de desarrollo. Abre el GTR y un asesor en ventanas distintas para ver los cambios en vivo.")),
    group("GTR", "Deriva y supervisa", users.filter((u) => u.rol === "gtr")),
    group("Asesores", "Gestionan sus leads", users.filter((u) => u.rol === "asesor")),
    group("Administración", "GTR y página de administración", users.filter((u) => u.rol === "admin")),
  );
  window.__leadsReady = true;
}

main().catch((err) => {
  content.replaceChildren(ui.h("div", { class: "alert alert-danger" }, ui.icon("danger"), ui.h("div", `No se pudo cargar: ${err.message}`)));
});
