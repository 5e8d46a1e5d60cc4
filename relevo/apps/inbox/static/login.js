// The inbox login: in demo mode, pick an agent (grouped by company) and get
// a development token that carries the company as its `tenant` claim.

import * as relevo from "/relevo.js";
import * as ui from "/static/ui/ui.js";
import { api, getConfig, loadSession, logout, saveSession } from "./common.js";

const content = document.getElementById("content");
const notice = document.getElementById("notice");

const rv = relevo.connect(); // anonymous: the indicator shows the server is reachable
const shell = ui.shell({ app: "Bandeja", home: "/inbox/" });
relevo.indicator(shell.conn, rv);

const ROLE_LABEL = { agente: "Agente", supervisor: "Supervisor" };

async function pick(user, button) {
  try {
    const res = await ui.busy(button, api("/api/inbox/demo/token", { method: "POST", body: { user: user.id }, token: null }));
    saveSession(res.token, { tenantName: user.tenant_nombre, color: user.color });
    location.href = "/inbox/";
  } catch (err) {
    ui.toast(err.message, { kind: "danger", title: "No se pudo entrar" });
  }
}

function userCard(u) {
  const btn = ui.h("button", { type: "button", class: "user-pick", "data-user": u.id, onclick: () => pick(u, btn) },
    ui.h("span", { class: "avatar", style: u.color ? { background: `${u.color}1f`, color: u.color } : null }, ui.initials(u.nombre)),
    ui.h("span", { class: "grow" },
      ui.h("span", { class: "user-pick-name" }, u.nombre),
      ui.h("span", { class: "user-pick-role" }, `${ROLE_LABEL[u.rol] || u.rol} · ${u.id}`)),
    ui.icon("chevron"));
  return btn;
}

async function main() {
  const current = loadSession();
  if (current) {
    notice.append(ui.h("div", { class: "alert alert-info" }, ui.icon("user"),
      ui.h("div", { class: "grow" }, ui.h("div", { class: "alert-title" }, `Sesión abierta en esta pestaña: ${current.name} (${current.tenantName || current.tenant})`),
        ui.h("div", { class: "row", style: { marginTop: "var(--s-2)" } },
          ui.h("a", { class: "btn btn-primary btn-sm", href: "/inbox/" }, "Continuar"),
          ui.h("button", { type: "button", class: "btn btn-sm", onclick: logout }, "Salir")))));
  }
  const config = await getConfig();
  content.removeAttribute("aria-busy");
  if (!config.demo) {
    content.replaceChildren(ui.h("section", { class: "card" }, ui.h("div", { class: "card-body" },
      ui.emptyState({ icon: "key", title: "Entra desde el CRM de tu empresa",
        text: "Esta instalación no usa el acceso de demostración: tu CRM abre /inbox/#token=… con un token que lleva tu empresa (claim tenant)." }))));
    return;
  }
  const { users } = await api("/api/inbox/demo/users", { token: null });
  const tenants = [...new Map(users.map((u) => [u.tenant, u])).values()];
  content.replaceChildren(
    ui.h("div", { class: "alert alert-info" }, ui.icon("info"),
      ui.h("div", ui.h("div", { class: "alert-title" }, "Modo demostración · WhatsApp simulado"),
        "Elige un agente. Abre agentes de las dos empresas en pestañas distintas: cada una ve solo sus conversaciones.")),
    ...tenants.map((t) => ui.h("section", { class: "card" },
      ui.h("div", { class: "card-header" },
        ui.h("h2", ui.h("span", { class: "tenant-dot", style: t.color ? { background: t.color } : null }), t.tenant_nombre),
        ui.h("span", { class: "meta mono" }, `tenant: ${t.tenant}`)),
      ui.h("div", { class: "card-body user-picks" }, users.filter((u) => u.tenant === t.tenant).map(userCard)))),
  );
  window.__inboxReady = true;
}

main().catch((err) => {
  content.replaceChildren(ui.h("div", { class: "alert alert-danger" }, ui.icon("danger"), ui.h("div", `No se pudo cargar: ${err.message}`)));
});
