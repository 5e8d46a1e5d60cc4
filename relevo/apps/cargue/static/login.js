// The cargue login: in demo mode, pick a seeded user and get a development
// token; otherwise say where tokens come from in a real deployment.

import * as relevo from "/relevo.js";
import * as ui from "/static/ui/ui.js";
import { api, getConfig, loadSession, SCREEN_OF, saveSession } from "./common.js";

const content = document.getElementById("content");
const notice = document.getElementById("notice");
const next = new URLSearchParams(location.search).get("next");

const rv = relevo.connect(); // anonymous: the indicator shows the server is reachable
const shell = ui.shell({ app: "Cargue", home: "/cargue/" });
relevo.indicator(shell.conn, rv);

const ROLE_LABEL = { vendedor: "Vendedor", despachador: "Despachador", admin: "Admin" };

async function pick(user, button) {
  try {
    const res = await ui.busy(button, api("/api/cargue/demo/token", { method: "POST", body: { user: user.id } }));
    const screen = SCREEN_OF[user.rol] || "despacho";
    saveSession(screen, res.token);
    location.href = `/cargue/${screen}`;
  } catch (err) {
    ui.toast(err.body?.mensaje || err.message, { kind: "danger", title: "No se pudo entrar" });
  }
}

function userCard(u) {
  const btn = ui.h("button", { type: "button", class: "user-pick", "data-user": u.id, onclick: () => pick(u, btn) },
    ui.h("span", { class: "avatar" }, ui.initials(u.nombre)),
    ui.h("span", { class: "grow" },
      ui.h("span", { class: "user-pick-name" }, u.nombre),
      ui.h("span", { class: "user-pick-role" }, [ROLE_LABEL[u.rol] || u.rol, u.ruta].filter(Boolean).join(" · "))),
    ui.icon("chevron"));
  return btn;
}

function group(title, text, users) {
  if (!users.length) return null;
  return ui.h("section", { class: "card" },
    ui.h("div", { class: "card-header" }, ui.h("h2", title), ui.h("span", { class: "meta" }, text)),
    ui.h("div", { class: "card-body user-picks" }, users.map(userCard)));
}

function resume() {
  const open = ["vendedor", "despacho"].map((s) => [s, loadSession(s)]).filter(([, s]) => s);
  if (!open.length) return;
  notice.append(ui.h("div", { class: "alert alert-info" }, ui.icon("user"),
    ui.h("div", { class: "grow" }, ui.h("div", { class: "alert-title" }, "Sesiones abiertas en este navegador"),
      ui.h("div", { class: "row", style: { marginTop: "var(--s-2)" } },
        open.map(([screen, s]) => ui.h("a", { class: "btn btn-sm", href: `/cargue/${screen}` },
          `${s.name} · ${screen === "vendedor" ? "teléfono" : "despacho"}`))))));
}

async function main() {
  if (next) {
    notice.append(ui.h("div", { class: "alert alert-warning" }, ui.icon("alert"),
      ui.h("div", ui.h("div", { class: "alert-title" }, "Entra para continuar"),
        `La pantalla de ${next === "vendedor" ? "vendedor" : "despacho"} necesita un usuario con ese rol.`)));
  }
  resume();
  const config = await getConfig();
  content.removeAttribute("aria-busy");
  if (!config.demo) {
    content.replaceChildren(ui.h("section", { class: "card" }, ui.h("div", { class: "card-body" },
      ui.emptyState({ icon: "key", title: "Entra desde el sistema de tu empresa",
        text: "Esta instalación no usa el acceso de demostración: tu sistema abre /cargue/vendedor o /cargue/despacho con tu sesión (#token=…)." }))));
    return;
  }
  const { users } = await api("/api/cargue/demo/users");
  content.replaceChildren(
    ui.h("div", { class: "alert alert-info" }, ui.icon("info"),
      ui.h("div", ui.h("div", { class: "alert-title" }, "Modo demostración"),
        "Abre un vendedor en el teléfono (o en una ventana angosta) y el despacho en otra: cada V aparece al instante.")),
    group("Vendedores", "Marcan V desde el teléfono", users.filter((u) => u.rol === "vendedor")),
    group("Despacho", "Ve todas las plantillas y marca D", users.filter((u) => u.rol !== "vendedor")),
  );
  window.__cargueReady = true;
}

main().catch((err) => {
  content.replaceChildren(ui.h("div", { class: "alert alert-danger" }, ui.icon("danger"), ui.h("div", `No se pudo cargar: ${err.message}`)));
});
