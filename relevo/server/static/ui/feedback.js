// Feedback: toasts, the screen-reader live region, the "changed live" flash.

import { h, icon } from "./dom.js";

const KIND_ICON = { success: "success", info: "info", warning: "alert", danger: "danger", neutral: "bell" };
const DEFAULT_TIMEOUT = { success: 4000, info: 5000, neutral: 5000, warning: 7000, danger: 9000 };
const MAX_TOASTS = 4;

let toastRegion = null;

function region() {
  if (toastRegion && toastRegion.isConnected) return toastRegion;
  // role=region without aria-live: each toast announces itself (status/alert)
  toastRegion = h("div", { class: "toasts", role: "region", "aria-label": "Notificaciones" });
  document.body.append(toastRegion);
  return toastRegion;
}

/**
 * toast(message, {kind, title, timeout, action: {label, run}}) → {el, close()}
 *
 * kind: "info" (default) | "success" | "warning" | "danger" | "neutral".
 * timeout: ms before it closes by itself (0 keeps it until closed); the timer
 * pauses while the pointer is over the toast or it has focus.
 */
export function toast(message, options = {}) {
  const kind = options.kind || "info";
  const timeout = options.timeout ?? DEFAULT_TIMEOUT[kind] ?? 5000;
  const urgent = kind === "danger";
  const body = h("div", { class: "toast-body" },
    options.title ? h("div", { class: "toast-title" }, options.title) : null,
    h("div", { class: options.title ? "toast-text" : "toast-title" }, message),
  );
  const el = h("div", {
    class: "toast",
    "data-kind": kind,
    role: urgent ? "alert" : "status",
    "aria-live": urgent ? "assertive" : "polite",
    "aria-atomic": "true",
  }, icon(KIND_ICON[kind] || "info"), body);
  if (options.action) {
    el.append(h("button", {
      type: "button",
      class: "toast-action",
      onclick: () => { options.action.run(); close(); },
    }, options.action.label));
  }
  const closeBtn = h("button", { type: "button", class: "toast-close", "aria-label": "Cerrar notificación" }, icon("x"));
  closeBtn.addEventListener("click", () => close());
  el.append(closeBtn);

  let timer = null;
  let closed = false;
  const arm = () => {
    if (timeout > 0 && !closed) timer = setTimeout(close, timeout);
  };
  const disarm = () => clearTimeout(timer);
  el.addEventListener("mouseenter", disarm);
  el.addEventListener("mouseleave", arm);
  el.addEventListener("focusin", disarm);
  el.addEventListener("focusout", arm);

  function close() {
    if (closed) return;
    closed = true;
    disarm();
    el.classList.add("is-leaving");
    const done = () => el.remove();
    el.addEventListener("animationend", done, { once: true });
    setTimeout(done, 400);
  }

  const host = region();
  host.append(el);
  while (host.children.length > MAX_TOASTS) host.firstElementChild.remove();
  arm();
  return { el, close };
}

let liveRegions = null;

function live() {
  if (liveRegions && liveRegions.polite.isConnected) return liveRegions;
  const polite = h("div", { class: "sr-only", "aria-live": "polite", "aria-atomic": "true", id: "ui-live" });
  const assertive = h("div", { class: "sr-only", "aria-live": "assertive", "aria-atomic": "true", id: "ui-live-assertive" });
  document.body.append(polite, assertive);
  liveRegions = { polite, assertive };
  return liveRegions;
}

/**
 * announce(text, {assertive}) — say it to screen readers without showing it.
 * Use for live changes the viewer did not cause ("Lead 123 pasó a En gestión").
 */
export function announce(text, { assertive = false } = {}) {
  const target = live()[assertive ? "assertive" : "polite"];
  // clear, then set on the next frame so a repeated message is read again
  target.textContent = "";
  requestAnimationFrame(() => { target.textContent = text; });
}

const flashTimers = new WeakMap();

/**
 * flash(el) — a short highlight on an element (table row, card, list item)
 * that just changed live. Restarts if called again while running. With
 * prefers-reduced-motion a static marker shows instead of the fade.
 */
export function flash(el, { duration = 1800 } = {}) {
  if (!el) return;
  el.classList.remove("flash");
  void el.offsetWidth; // restart the animation
  el.classList.add("flash");
  clearTimeout(flashTimers.get(el));
  flashTimers.set(el, setTimeout(() => el.classList.remove("flash"), duration));
}

/** busy(button, promise) — spinner on a button until the promise settles. */
export async function busy(button, promise) {
  button.classList.add("is-busy");
  button.setAttribute("aria-busy", "true");
  try {
    return await promise;
  } finally {
    button.classList.remove("is-busy");
    button.removeAttribute("aria-busy");
  }
}
