// /admin/personas: the people who sign in to the apps, for the global admin
// (everyone) and for an inbox supervisor (their own tenant's agents). Every
// call goes to /api/people with the sign-in cookie (no token on the page); a
// temporary password (a new person, a reset) is shown once, in a dialog.

import * as relevo from "/relevo.js";
import { api, ApiError, errorText, signOut } from "/static/ui/session.js";
import * as ui from "/static/ui/ui.js";

const APP_NAMES = { "*": "Todas las apps", leads: "Leads", turnos: "Turnos", cargue: "Cargue", inbox: "Inbox" };
const ROLE_NAMES = {
  admin: "Administrador", gtr: "GTR", asesor: "Asesor", operador: "Operador", despachador: "Despachador",
  vendedor: "Vendedor", agente: "Agente", supervisor: "Supervisor",
};
const EVENTS = {
  sign_in: ["Entró", "success"], failure: ["Intento fallido", "danger"], throttled: ["Bloqueado un momento", "warning"],
  sign_out: ["Salió", "neutral"], password_changed: ["Contraseña cambiada", "info"], disabled: ["Desactivada", "danger"],
  enabled: ["Reactivada", "success"], created: ["Creada", "info"], updated: ["Modificada", "info"],
};
const FAILURES = { unknown_user: "usuario desconocido", wrong_password: "contraseña incorrecta", disabled: "cuenta desactivada" };

const content = document.getElementById("content");
const notice = document.getElementById("notice");
const actions = document.getElementById("actions");
const here = "/admin/personas";

const shell = ui.shell({
  app: "Personas",
  home: "/",
  onLogout: async () => {
    await signOut();
    location.href = `/login?next=${encodeURIComponent(here)}`;
  },
});
relevo.indicator(shell.conn, relevo.connect());

let state = { people: [], me: null, scope: { tenant: null, roles: {} } };
let peopleTable;
let auditTable;

const roleText = (app, role) => `${ROLE_NAMES[role] || role}${app === "*" ? "" : ` · ${APP_NAMES[app] || app}`}`;

function rolesCell(p) {
  const tags = Object.entries(p.roles).flatMap(([app, roles]) => roles.map((r) => ui.h("span", { class: "tag" }, roleText(app, r))));
  return tags.length ? ui.h("span", tags) : ui.h("span", { class: "muted" }, "sin rol");
}

function personCell(p) {
  return ui.h("span", { class: "who" },
    ui.h("span", { class: "avatar", "aria-hidden": "true" }, ui.initials(p.name)),
    ui.h("span", ui.h("strong", p.name), ui.h("br"), ui.h("small", { class: "muted" }, p.username)));
}

function stateCell(p) {
  if (!p.active) return ui.chip("off", { label: "Desactivada", kind: "danger" });
  if (p.must_change_password) return ui.chip("temp", { label: "Contraseña temporal", kind: "warning" });
  return ui.chip("on", { label: "Activa", kind: "success" });
}

function lastSignIn(p) {
  if (!p.last_sign_in_at) return ui.h("span", { class: "muted" }, "Nunca");
  const at = p.last_sign_in_at * 1000;
  return ui.h("time", { datetime: new Date(at).toISOString(), title: ui.fmtDateTime(at) }, ui.timeAgo(at, { long: true }));
}

function actionsCell(p) {
  const self = state.me && p.id === state.me.id;
  const edit = ui.h("button", { type: "button", class: "btn btn-sm", "data-action": "edit", onclick: () => personForm(p) }, "Editar");
  const reset = ui.h("button", { type: "button", class: "btn btn-sm", "data-action": "reset", onclick: () => resetPassword(p) }, "Restablecer contraseña");
  const toggle = p.active
    ? ui.h("button", { type: "button", class: "btn btn-sm btn-danger", "data-action": "deactivate", disabled: self || undefined,
        title: self ? "No puedes desactivarte a ti mismo" : null, onclick: () => setActive(p, false) }, "Desactivar")
    : ui.h("button", { type: "button", class: "btn btn-sm", "data-action": "activate", onclick: () => setActive(p, true) }, "Reactivar");
  return ui.h("span", { class: "row" }, edit, reset, toggle);
}

function auditEvent(e) {
  const [label, kind] = EVENTS[e.event] || [e.event, "neutral"];
  return ui.chip(e.event, { label, kind });
}

function auditDetail(e) {
  if (e.event === "failure") return FAILURES[e.detail] || e.detail;
  const by = /by=(\S+)/.exec(e.detail || "");
  return by ? `por ${by[1] === "cli" ? "la línea de comandos" : by[1]}` : "";
}

/** Shows a temporary password once, with a copy button. */
function showTemporary(person, password, title) {
  const code = ui.h("code", { class: "temp-password", id: "temp-password" }, password);
  const copy = ui.h("button", { type: "button", class: "btn btn-sm", onclick: async () => {
    try {
      await navigator.clipboard.writeText(password);
      ui.toast("Copiada.", { kind: "success" });
    } catch (_) {
      ui.toast("No se pudo copiar: cópiala a mano.", { kind: "warning" });
    }
  } }, "Copiar");
  return ui.dialog({
    name: "people-temporary",
    title,
    body: [
      ui.h("p", `Dale a ${person.name} (usuario «${person.username}») esta contraseña temporal. No se volverá a mostrar: al entrar, tendrá que elegir una nueva.`),
      ui.h("p", { class: "row" }, code, copy),
    ],
    actions: [{ label: "Hecho", kind: "primary", value: true, autofocus: true }],
  }).result;
}

async function call(promise, what) {
  try {
    return await promise;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      location.href = `/login?next=${encodeURIComponent(here)}`;
    }
    ui.toast(errorText(err), { kind: "danger", title: what });
    throw err;
  }
}

async function resetPassword(p) {
  const ok = await ui.confirm({
    name: "people-reset",
    title: `¿Restablecer la contraseña de ${p.name}?`,
    message: "Se cerrarán sus sesiones abiertas y recibirá una contraseña temporal que deberá cambiar al entrar.",
    confirmLabel: "Restablecer",
  });
  if (!ok) return;
  const res = await call(api(`/api/people/${p.id}/password`, { method: "POST" }), "No se pudo restablecer");
  upsert(res.person);
  await showTemporary(res.person, res.temporary_password, "Contraseña temporal");
  refreshAudit();
}

async function setActive(p, active) {
  const ok = await ui.confirm({
    name: "people-active",
    title: active ? `¿Reactivar a ${p.name}?` : `¿Desactivar a ${p.name}?`,
    message: active ? "Podrá volver a entrar con su contraseña." : "No podrá entrar, y sus pantallas abiertas se desconectan al instante.",
    confirmLabel: active ? "Reactivar" : "Desactivar",
    danger: !active,
  });
  if (!ok) return;
  const res = await call(api(`/api/people/${p.id}/${active ? "activate" : "deactivate"}`, { method: "POST" }),
    active ? "No se pudo reactivar" : "No se pudo desactivar");
  upsert(res.person);
  ui.announce(`${p.name}: ${active ? "reactivada" : "desactivada"}`);
  refreshAudit();
}

function upsert(person) {
  const i = state.people.findIndex((x) => x.id === person.id);
  if (i >= 0) state.people[i] = person;
  else state.people.push(person);
  peopleTable.upsert(person);
  document.getElementById("people-count").textContent = ui.plural(state.people.length, "persona", "personas");
}

/** The roles the caller may give, as checkboxes grouped per app (`held` checked). */
function roleChecks(held = {}) {
  return Object.entries(state.scope.roles).map(([app, roles]) => ui.h("fieldset", { class: "field role-group" },
    ui.h("legend", { class: "label" }, APP_NAMES[app] || app),
    ui.h("div", { class: "row" }, roles.map((role) => ui.h("label", { class: "check" },
      ui.h("input", { type: "checkbox", name: "role", value: `${app}:${role}`, "data-role": `${app}:${role}`,
        checked: (held[app] || []).includes(role) || undefined }),
      ROLE_NAMES[role] || role)))));
}

/** The drawer to create a person, or (`p`) to change one's name and roles. */
function personForm(p = null) {
  const error = ui.h("p", { class: "error", role: "alert", hidden: true });
  const input = (id, label, attrs = {}, hint = "") => {
    const el = ui.h("input", { class: "input", id, name: id, autocomplete: "off", ...attrs });
    return [el, ui.h("div", { class: "field" }, ui.h("label", { for: id }, label), el, hint ? ui.h("div", { class: "hint" }, hint) : null)];
  };
  const [username, usernameField] = input("np-username", "Usuario",
    { required: true, maxlength: 64, autocapitalize: "none", spellcheck: "false", value: p?.username, readonly: p ? true : undefined },
    p ? "El usuario no cambia." : "Minúsculas, dígitos, «.», «_», «@» o «-» (sirve un correo).");
  const [name, nameField] = input("np-name", "Nombre", { required: true, maxlength: 100, value: p?.name });
  const fixed = p ? p.tenant : state.scope.tenant;
  const [tenant, tenantField] = input("np-tenant", "Tenant", { maxlength: 64, value: fixed || "", readonly: fixed != null ? true : undefined },
    p ? "El tenant no cambia." : fixed ? "Las personas que creas son de tu tenant." : "Solo para inbox (la empresa del agente); vacío en las demás apps.");
  const submit = ui.h("button", { type: "submit", class: "btn btn-primary", form: "person-form", id: "np-submit" }, p ? "Guardar" : "Crear persona");
  const form = ui.h("form", { id: "person-form", class: "stack", onsubmit: async (e) => {
    e.preventDefault();
    error.hidden = true;
    const roles = {};
    for (const box of form.querySelectorAll("input[name=role]:checked")) {
      const [app, role] = box.value.split(":");
      (roles[app] ||= []).push(role);
    }
    if (!Object.keys(roles).length) {
      error.hidden = false;
      error.textContent = "Elige al menos un rol.";
      return;
    }
    try {
      if (p) {
        const body = { name: name.value.trim(), roles };
        const res = await ui.busy(submit, api(`/api/people/${p.id}`, { method: "PATCH", body }));
        drawer.close();
        upsert(res.person);
        ui.toast("Cambios guardados.", { kind: "success" });
      } else {
        const body = { username: username.value.trim(), name: name.value.trim(), roles };
        if (!fixed) body.tenant = tenant.value.trim();
        const res = await ui.busy(submit, api("/api/people", { method: "POST", body }));
        drawer.close();
        upsert(res.person);
        await showTemporary(res.person, res.temporary_password, "Persona creada");
      }
      refreshAudit();
    } catch (err) {
      error.hidden = false;
      error.textContent = errorText(err);
    }
  } }, usernameField, nameField, tenantField, roleChecks(p?.roles), error);
  const drawer = ui.drawer({ name: "people-person", title: p ? `Editar a ${p.name}` : "Nueva persona", body: form, footer: submit });
  (p ? name : username).focus();
}

async function refreshAudit() {
  try {
    const { entries } = await api("/api/people/audit?limit=100");
    auditTable.set(entries.map((e, i) => ({ ...e, key: `${e.at}-${i}` })));
  } catch (err) {
    ui.toast(errorText(err), { kind: "warning", title: "No se pudo leer la actividad" });
  }
}

function denied(err) {
  content.removeAttribute("aria-busy");
  const title = err.status === 403 ? "Sin permiso" : "No se pudo cargar";
  content.replaceChildren(ui.h("section", { class: "card" }, ui.h("div", { class: "card-body" }, ui.emptyState({
    icon: "lock",
    title,
    text: errorText(err),
    action: ui.h("a", { class: "btn btn-primary", href: `/login?next=${encodeURIComponent(here)}` }, "Entrar con otro usuario"),
  }))));
}

async function main() {
  try {
    state = await api("/api/people");
  } catch (err) {
    if (err.status === 401 || err.body?.password_change_required) {
      location.replace(`/login?next=${encodeURIComponent(here)}`);
      return;
    }
    denied(err);
    return;
  }
  const me = state.people.find((p) => p.id === state.me.id);
  shell.setUser({ name: me ? me.name : state.me.username, role: state.scope.tenant ? `Supervisor · ${state.scope.tenant}` : "Administrador" });
  if (state.scope.tenant) {
    notice.append(ui.h("div", { class: "alert alert-info" }, ui.icon("info"),
      ui.h("div", `Gestionas a las personas de inbox del tenant «${state.scope.tenant}».`)));
  }
  actions.append(
    ui.h("a", { class: "btn", id: "my-password", href: `/login?cambiar=1&next=${encodeURIComponent(here)}` },
      ui.icon("key"), "Mi contraseña"),
    ui.h("button", { type: "button", class: "btn btn-primary", id: "new-person-btn", onclick: () => personForm() },
      ui.icon("plus"), "Nueva persona"));
  const peopleCard = ui.h("div");
  const auditCard = ui.h("div");
  content.removeAttribute("aria-busy");
  content.replaceChildren(
    ui.h("section", { class: "card" }, ui.h("div", { class: "card-header" }, ui.h("h2", "Personas"),
      ui.h("span", { class: "meta", id: "people-count" }, ui.plural(state.people.length, "persona", "personas"))), peopleCard),
    ui.h("section", { class: "card" }, ui.h("div", { class: "card-header" }, ui.h("h2", "Actividad reciente"),
      ui.h("span", { class: "meta" }, "entradas, intentos fallidos y cambios")), auditCard),
  );
  peopleTable = ui.table(peopleCard, {
    caption: "Personas",
    cards: true,
    columns: [
      { label: "Persona", render: personCell, primary: true, value: (p) => `${p.name}|${p.username}` },
      { label: "Roles", render: rolesCell, value: (p) => JSON.stringify(p.roles) },
      { key: "tenant", label: "Tenant", className: "muted" },
      { label: "Estado", render: stateCell, value: (p) => `${p.active}|${p.must_change_password}` },
      { label: "Último ingreso", render: lastSignIn, value: (p) => p.last_sign_in_at, flash: false },
      { label: "Acciones", render: actionsCell, className: "actions-cell", value: (p) => JSON.stringify(p) },
    ],
    rowAttrs: (p) => ({ "data-username": p.username }),
    empty: { icon: "user", title: "Nadie todavía", text: "Crea la primera persona con «Nueva persona»." },
  });
  peopleTable.set(state.people);
  auditTable = ui.table(auditCard, {
    caption: "Actividad reciente",
    cards: true,
    compact: true,
    key: "key",
    columns: [
      { label: "Cuándo", render: (e) => ui.fmtDateTime(e.at * 1000), value: (e) => e.at, primary: true },
      { key: "username", label: "Usuario" },
      { label: "Evento", render: auditEvent, value: (e) => e.event },
      { label: "Detalle", render: auditDetail, value: (e) => e.detail, className: "muted" },
      { key: "address", label: "Dirección", className: "muted" },
    ],
    empty: { icon: "clock", title: "Sin actividad", text: "Aquí aparecen las entradas y los intentos fallidos." },
  });
  await refreshAudit();
  // Back to the tab: what other admins (and sign-ins) changed meanwhile.
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) reload();
  });
  window.__peopleReady = true;
}

async function reload() {
  try {
    state = await api("/api/people");
  } catch (err) {
    if (err.status === 401) location.href = `/login?next=${encodeURIComponent(here)}`;
    return;
  }
  peopleTable.set(state.people, { flash: true });
  document.getElementById("people-count").textContent = ui.plural(state.people.length, "persona", "personas");
  refreshAudit();
}

main().catch((err) => denied(err));
