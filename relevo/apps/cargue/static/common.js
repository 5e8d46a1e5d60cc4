// What the cargue pages share, on the UI kit's session module: a session per
// screen, calls to /api/cargue, the relevo connection, the top bar, what the
// login page shows, and Spanish error texts.

import * as relevo from "/relevo.js";
import * as session from "/static/ui/session.js";
import * as ui from "/static/ui/ui.js";

// One session per screen, so a vendor and the dispatcher can be signed in on
// two tabs of one browser. localStorage: a phone that kills the tab keeps it.
const STORES = {
  vendedor: session.sessionStore("relevo.cargue.session.vendedor", { storage: localStorage }),
  despacho: session.sessionStore("relevo.cargue.session.despacho", { storage: localStorage }),
};
/** The staff screens' sections. */
export const NAV = [
  { label: "Despacho", href: "/cargue/despacho", icon: "truck" },
  { label: "Plantillas", href: "/cargue/plantillas", icon: "apps" },
];
export const SCREEN_OF = { vendedor: "vendedor", despachador: "despacho", admin: "despacho" };
const ROLE_LABEL = { vendedor: "Vendedor", despachador: "Despachador", admin: "Admin" };

export const { api } = session;

/** The session of `screen` (a token handed over as #token=…, or the kept one). */
export const loadSession = (screen) => STORES[screen].load();
/** The token `screen` calls the API with. */
export const token = (screen) => STORES[screen].load()?.token;

export async function logout(screen) {
  await session.signOut();
  STORES[screen].clear();
  location.href = "/cargue/";
}

/** The page needs a session with one of `roles`; otherwise back to the login. */
export const requireSession = (screen, roles) => STORES[screen].require(roles, "/cargue/");

let configPromise = null;
export function getConfig() {
  configPromise = configPromise || api("/api/cargue/config");
  return configPromise;
}

/** A fresh token for this screen's user: the deployment's token_url, or the
 * demo login. Undefined when neither is available. */
export const tokenSource = (screen, s, config) =>
  session.tokenSource("cargue", config, s, (fresh) => STORES[screen].save(fresh).token);

export function connect(screen, s, config) {
  return relevo.connect({ token: s.token, getToken: tokenSource(screen, s, config) });
}

/** The top bar: app name, sections, the live connection indicator, the user, Salir. */
export function topbar(screen, s, rv, { nav = [], role = "" } = {}) {
  const bar = ui.shell({ app: "Cargue", nav, user: { name: s.name, role }, home: "/cargue/", onLogout: () => logout(screen) });
  relevo.indicator(bar.conn, rv);
  return bar;
}

/** What the one login page (/static/ui/login.js) needs to know of this app. */
export const LOGIN = {
  name: "Cargue",
  heading: "Cargue del día",
  subtitle: "El vendedor marca V en su teléfono; el despacho lo ve al instante y marca D.",
  homes: { vendedor: "/cargue/vendedor", despachador: "/cargue/despacho", admin: "/cargue/despacho" },
  stores: Object.values(STORES),
  storeFor: (s) => STORES[s.roles.map((r) => SCREEN_OF[r]).find(Boolean) || "despacho"],
  who: (s) => `${s.name} · ${s.roles.includes("vendedor") ? "teléfono" : "despacho"}`,
  describe: (u) => [ROLE_LABEL[u.rol] || u.rol, u.ruta].filter(Boolean).join(" · "),
  groups: (users) => [
    { title: "Vendedores", meta: "Marcan V desde el teléfono", users: users.filter((u) => u.rol === "vendedor") },
    { title: "Despacho", meta: "Ve todas las plantillas y marca D", users: users.filter((u) => u.rol !== "vendedor") },
  ],
  demo: ["Modo demostración", "Abre un vendedor en el teléfono (o en una ventana angosta) y el despacho en otra: cada V aparece al instante."],
  elsewhere: ["Entra desde el sistema de tu empresa", "Esta instalación no usa el acceso de demostración: tu sistema abre /cargue/vendedor o /cargue/despacho con tu sesión (#token=…)."],
};

/** A Spanish sentence for an API error. */
export const errorText = (err) => session.errorText(err, {
  not_found: "Ese producto ya no está en la plantilla.",
  conflict: "La fila cambió mientras tanto; la pantalla ya muestra lo actual.",
  rate_limited: "Demasiadas marcas seguidas; espera un momento.",
});

const DIAS = { LUNES: "Lunes", MARTES: "Martes", MIERCOLES: "Miércoles", JUEVES: "Jueves", VIERNES: "Viernes", SABADO: "Sábado", DOMINGO: "Domingo" };

/** "Martes 2 de diciembre" from the config's dia and fecha. */
export function dayLabel(config) {
  const d = new Date(`${config.fecha}T12:00:00`);
  return `${DIAS[config.dia] || config.dia} ${d.toLocaleDateString("es", { day: "numeric", month: "long" })}`;
}

/** Rows of a plantilla in their order. */
export const byOrder = (a, b) => (a.orden ?? 0) - (b.orden ?? 0) || Number(a.id) - Number(b.id);
