// Status chips with the seeds' colours, and the connection indicator.

import { h } from "./dom.js";

/**
 * Known statuses of the four apps: code → [Spanish label, kind, live].
 * kind picks the colour (neutral gris, info azul, warning naranja,
 * success verde, danger rojo); live makes the dot pulse.
 */
export const STATUS = {
  // leads (seguimiento)
  nuevo: ["Nuevo", "neutral"],
  derivado: ["Derivado", "info"],
  en_gestion: ["En gestión", "warning", true],
  terminado: ["Terminado", "success"],
  no_gestionado: ["Sin gestionar", "danger"],
  // turnos
  esperando: ["En espera", "neutral"],
  llamado: ["Llamado", "info", true],
  atendiendo: ["Atendiendo", "warning"],
  finalizado: ["Finalizado", "success"],
  no_show: ["No se presentó", "danger"],
  // inbox connector
  qr: ["Escanear QR", "warning", true],
  authenticated: ["Conectado", "success"],
  disconnected: ["Desconectado", "danger"],
  // cargue
  pendiente: ["Pendiente", "neutral"],
  verificado: ["Verificado", "success"],
  despachado: ["Despachado", "info"],
};

/** Register more statuses: defineStatus({vencido: ["Vencido", "danger"]}). */
export function defineStatus(map) {
  Object.assign(STATUS, map);
}

/**
 * chip(status, {label, kind, live, large}) → <span class="chip">
 * chip("en_gestion") → naranja "En gestión"; chip("x", {label: "Otro", kind: "info"}).
 * Unknown codes render neutral with the code as label.
 */
export function chip(status, { label, kind, live, large = false } = {}) {
  const known = STATUS[status] || [];
  const k = kind || known[1] || "neutral";
  return h("span", {
    class: ["chip", `chip-${k}`, large && "chip-lg", (live ?? known[2]) && "is-live"],
    "data-status": status,
  }, label || known[0] || String(status ?? "—"));
}

/** The Spanish label of a status code. */
export const statusLabel = (status) => (STATUS[status] || [])[0] || String(status ?? "");

/** badge(count, {kind}) → <span class="badge"> (hidden at 0). */
export function badge(count, { kind = "", label } = {}) {
  return h("span", {
    class: ["badge", kind && `badge-${kind}`],
    "data-count": String(count),
    "aria-label": label,
  }, count ? String(count > 999 ? "999+" : count) : "");
}

/** Update a badge made by badge(). */
export function setBadge(el, count) {
  el.dataset.count = String(count);
  el.textContent = count ? String(count > 999 ? "999+" : count) : "";
}

export const CONN_LABELS = {
  connected: "Conectado",
  connecting: "Conectando…",
  disconnected: "Sin conexión",
};

/**
 * connIndicator(state = "connecting") → <span class="conn" data-state>
 * The same markup works in static HTML:
 *   <span class="conn" data-state="connecting"><span class="conn-dot"></span>
 *     <span class="conn-label">Conectando…</span></span>
 */
export function connIndicator(state = "connecting", { labels = {} } = {}) {
  const el = h("span", { class: "conn", role: "status", "aria-live": "polite" },
    h("span", { class: "conn-dot", "aria-hidden": "true" }),
    h("span", { class: "conn-label" }));
  setConn(el, state, { labels });
  return el;
}

/** setConn(el, "connected" | "connecting" | "disconnected", {label}) */
export function setConn(el, state, { label, labels = {} } = {}) {
  el.dataset.state = state;
  let text = el.querySelector(".conn-label");
  if (!text) {
    el.replaceChildren(h("span", { class: "conn-dot", "aria-hidden": "true" }), (text = h("span", { class: "conn-label" })));
  }
  text.textContent = label || labels[state] || CONN_LABELS[state] || state;
  el.title = `Conexión en tiempo real: ${text.textContent}`;
}

/**
 * bindConnection(el, rv) — follow a relevo.js connection's state
 * (rv.on("state", fn) with connecting | connected | disconnected).
 * Prefer relevo.indicator(el, rv) from relevo.js when it is there; both
 * write the same attributes, so the same CSS applies.
 */
export function bindConnection(el, rv, options) {
  setConn(el, rv.state || "connecting", options);
  return rv.on("state", (state) => setConn(el, state, options));
}

/**
 * bindStale(el, rv, {title}) — mark `el` as showing stale data while the
 * relevo.js connection `rv` is not connected (after it had been: before the
 * first connection there is nothing to be stale): `data-stale="true"` (ui.css
 * dims it and labels it "Sin actualizar") and a Spanish title. `onChange(stale)`
 * runs on each change too. Returns a function that stops following.
 */
export function bindStale(el, rv, { title = "Sin conexión: estos datos pueden estar desactualizados", onChange } = {}) {
  let was = null;
  const render = (state) => {
    const stale = state !== "connected" && Boolean(rv.everConnected || rv.status?.everConnected);
    if (stale === was) return;
    was = stale;
    if (stale) {
      el.dataset.stale = "true";
      el.dataset.staleTitle = el.title || "";
      el.title = title;
    } else {
      if (el.dataset.stale) el.title = el.dataset.staleTitle || "";
      delete el.dataset.stale;
      delete el.dataset.staleTitle;
    }
    if (onChange) onChange(stale);
  };
  render(rv.state);
  return rv.on("state", (state) => render(state));
}
