import * as ui from "/static/ui/ui.js";

ui.hydrateIcons();

// What each known app is, in one line; other links show their URL.
const KNOWN = [
  [/lead|seguim/i, "users", "Seguimiento de leads: el GTR deriva, el asesor gestiona, los estados cambian en vivo."],
  [/turn/i, "ticket", "Turnero: kiosco, panel del operador y monitor público de la cola."],
  [/cargue|carg/i, "truck", "Cargue: el vendedor marca V en el teléfono y el despachador lo ve al instante."],
  [/inbox|whats|bandeja/i, "message", "Bandeja de WhatsApp por empresa: mensajes, conversaciones y estado del conector."],
  [/personas/i, "key", "Personas: quién entra a cada app y con qué rol; crear, restablecer contraseñas, desactivar."],
];
const isDemo = (link) => /(^|\/)demo(\.html)?$/.test(link.url);

function appCard(link) {
  const hay = `${link.label} ${link.url}`;
  const [, iconName, text] = KNOWN.find(([re]) => re.test(hay)) || [null, "apps", ""];
  return ui.h("a", { class: "card tile", href: link.url, "data-app": link.url },
    ui.h("span", { class: "tile-icon" }, ui.icon(iconName)),
    ui.h("span", null,
      ui.h("span", { class: "tile-title" }, link.label),
      text ? ui.h("span", { class: "tile-text" }, text) : null,
      ui.h("span", { class: "tile-url" }, link.url)));
}

const apps = document.getElementById("apps");

async function loadLinks() {
  apps.setAttribute("aria-busy", "true");
  try {
    const res = await fetch("/api/links", { headers: { Accept: "application/json" } });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const links = await res.json();
    const list = links.filter((l) => !isDemo(l));
    if (!list.length) {
      apps.replaceChildren(ui.h("div", { class: "card", style: "grid-column:1/-1" }, ui.emptyState({
        icon: "apps",
        title: "Este servidor no tiene aplicaciones montadas",
        text: ui.h("span", null, "Actívalas con ", ui.h("code", "relevo serve --apps leads,turnos"),
          " o prueba todo con ", ui.h("code", "relevo demo"), "."),
      })));
    } else {
      apps.replaceChildren(...list.map(appCard));
    }
  } catch (err) {
    apps.replaceChildren(ui.h("div", { class: "alert alert-danger", role: "alert", style: "grid-column:1/-1" },
      ui.icon("danger"),
      ui.h("div", { class: "grow", style: "flex:1" },
        ui.h("div", { class: "alert-title" }, "No se pudo cargar la lista de aplicaciones"),
        ui.h("div", null, `El servidor no respondió (${err.message}).`)),
      ui.h("button", { class: "btn btn-sm", type: "button", onclick: loadLinks }, "Reintentar")));
  } finally {
    apps.removeAttribute("aria-busy");
  }
}

async function checkDemo() {
  try {
    const res = await fetch("/demo", { method: "HEAD", redirect: "manual" });
    if (res.status === 404) {
      const tool = document.getElementById("demo-tool");
      tool.setAttribute("aria-disabled", "true");
      tool.style.opacity = "0.7";
      document.getElementById("demo-text").replaceChildren("No está activa en este servidor: arráncalo con ",
        ui.h("code", "relevo demo"), ".");
    }
  } catch { /* the link stays as it is */ }
}

async function showVersion() {
  try {
    const res = await fetch("/healthz");
    const { version } = await res.json();
    const el = document.getElementById("version");
    el.textContent = `v${version}`;
    el.hidden = false;
  } catch { /* not essential */ }
}

loadLinks();
checkDemo();
showVersion();
