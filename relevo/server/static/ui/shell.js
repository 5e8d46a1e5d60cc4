// The common app shell (top bar) and small interactive widgets: tabs,
// segmented filters.

import { h, icon, initials } from "./dom.js";
import { badge, connIndicator, setBadge } from "./status.js";

/**
 * shell({app, nav, user, home, onLogout}) → {el, conn, setUser(user), setCount(href, n)}
 *
 * Puts the top bar at the start of <body> (or replaces an existing
 * <header class="topbar">):
 *   relevo | <app>      <nav>       [conn indicator] [user chip]
 * app:  "Leads" — the app's name next to the product
 * nav:  [{label: "Bandeja", href: "/leads/gtr", current: true, count: 3}]
 * user: {name: "Ana Pérez", role: "GTR"} (optional)
 * onLogout: called by a "Salir" button at the end of the bar (optional)
 * `conn` is the indicator element: hand it to relevo.indicator(conn, rv).
 */
export function shell({ app = "", nav = [], user = null, home = "/", onLogout = null } = {}) {
  const conn = connIndicator("connecting");
  const userSlot = h("div", { class: "user-slot" });
  const counts = new Map();
  const navEl = nav.length
    ? h("nav", { class: "nav", "aria-label": "Secciones" }, nav.map((item) => {
        const b = badge(item.count || 0, { kind: "primary" });
        counts.set(item.href, b);
        return h("a", { href: item.href, "aria-current": item.current ? "page" : null }, item.icon ? icon(item.icon) : null, item.label, b);
      }))
    : null;
  const el = h("header", { class: "topbar" },
    h("a", { class: "brand", href: home },
      h("span", { class: "brand-mark", "aria-hidden": "true" }, "r"),
      "relevo",
      app ? h("span", { class: "brand-app" }, app) : null),
    navEl,
    h("div", { class: "topbar-end" }, conn, userSlot,
      onLogout ? h("button", { type: "button", class: "btn btn-ghost btn-sm", title: "Cerrar sesión", onclick: onLogout },
        icon("logout"), h("span", { class: "hide-phone" }, "Salir")) : null),
  );
  const existing = document.querySelector("header.topbar");
  if (existing) existing.replaceWith(el);
  else document.body.prepend(el);
  skipLink();
  const setUser = (u) => userSlot.replaceChildren(u ? userChip(u) : "");
  setUser(user);
  return {
    el,
    conn,
    setUser,
    setCount: (href, n) => { const b = counts.get(href); if (b) setBadge(b, n); },
  };
}

/** The page's first tab stop: "Saltar al contenido", to <main> past the bar
 * (a board with a hundred controls should not need a hundred Tabs). */
function skipLink() {
  const main = document.querySelector("main");
  if (!main || document.querySelector(".skip-link")) return;
  if (!main.id) main.id = "contenido";
  if (!main.hasAttribute("tabindex")) main.setAttribute("tabindex", "-1");
  document.body.prepend(h("a", { class: "skip-link", href: `#${main.id}` }, "Saltar al contenido"));
}

/** userChip({name, role}) → the avatar + name pill of the top bar. */
export function userChip({ name, role }) {
  return h("span", { class: "user-chip", title: role ? `${name} · ${role}` : name },
    h("span", { class: "avatar", "aria-hidden": "true" }, initials(name)),
    name,
    role ? h("small", role) : null);
}

/**
 * tabs(root, {onChange}) — wire a .tabs element:
 *   <div class="tabs" role="tablist">
 *     <button role="tab" aria-controls="panel-a" aria-selected="true">A</button> …
 *   </div>
 *   <section id="panel-a" role="tabpanel">…</section>
 * Arrow keys move between tabs; panels of unselected tabs are hidden.
 * Returns {select(idOrIndex)}.
 */
export function tabs(root, { onChange } = {}) {
  root.setAttribute("role", "tablist");
  const list = () => Array.from(root.querySelectorAll('[role="tab"]'));
  const select = (target, focus = false) => {
    const all = list();
    const tab = typeof target === "number" ? all[target] : all.find((t) => t === target || t.getAttribute("aria-controls") === target || t.dataset.tab === target);
    if (!tab) return;
    for (const t of all) {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      const panel = t.getAttribute("aria-controls") && document.getElementById(t.getAttribute("aria-controls"));
      if (panel) panel.hidden = !on;
    }
    if (focus) tab.focus();
    if (onChange) onChange(tab.dataset.tab || tab.getAttribute("aria-controls"), tab);
  };
  root.addEventListener("click", (e) => {
    const tab = e.target.closest('[role="tab"]');
    if (tab && root.contains(tab)) select(tab);
  });
  root.addEventListener("keydown", (e) => {
    const all = list();
    const i = all.indexOf(document.activeElement);
    if (i < 0) return;
    const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: all.length - 1 }[e.key];
    if (next === undefined) return;
    e.preventDefault();
    select(all[(next + all.length) % all.length], true);
  });
  const current = list().find((t) => t.getAttribute("aria-selected") === "true") || list()[0];
  if (current) {
    for (const t of list()) t.tabIndex = t === current ? 0 : -1;
    for (const t of list()) {
      const panel = t.getAttribute("aria-controls") && document.getElementById(t.getAttribute("aria-controls"));
      if (panel) panel.hidden = t !== current;
    }
  }
  return { select: (t) => select(t) };
}

/**
 * segmented(root, onChange) — a .segmented group of <button data-value>:
 * one is aria-pressed; clicking another calls onChange(value).
 */
export function segmented(root, onChange) {
  root.setAttribute("role", "group");
  root.addEventListener("click", (e) => {
    const btn = e.target.closest("button[data-value]");
    if (!btn) return;
    for (const b of root.querySelectorAll("button[data-value]")) b.setAttribute("aria-pressed", String(b === btn));
    onChange(btn.dataset.value, btn);
  });
  for (const b of root.querySelectorAll("button[data-value]")) {
    if (!b.hasAttribute("aria-pressed")) b.setAttribute("aria-pressed", "false");
    b.type = "button";
  }
}
