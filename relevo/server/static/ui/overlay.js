// Dialogs and drawers on the native <dialog> element: focus trap, Esc to close
// and the backdrop come from the browser.
//
// Every call names its overlay (`name`, kebab-case, "<app>-<what>"): the page
// marks it `data-dialog="<name>"`, and tests/a11y lists the names in the
// static files to check that each one is opened in Chromium and passes axe.

import { append, h, icon } from "./dom.js";

/**
 * dialog({name, title, body, actions, wide, dismissable}) → {el, result, close(value)}
 *
 * name: what this dialog is ("leads-edit"), as data-dialog on the element.
 * body: a string, a Node or an array of them.
 * actions: [{label, kind: "primary"|"secondary"|"danger"|"ghost", value, autofocus}]
 *   — clicking one closes the dialog and resolves `result` with its value.
 * Esc / the backdrop resolve with `undefined` (unless dismissable: false).
 * The element is removed from the page once closed.
 */
export function dialog({ name, title, body, actions = [], wide = false, dismissable = true } = {}) {
  const titleId = `dlg-${Math.random().toString(36).slice(2, 8)}`;
  const el = h("dialog", { class: ["dialog", wide && "wide"], "aria-labelledby": titleId, "data-dialog": name });
  let resolve;
  const result = new Promise((r) => { resolve = r; });
  let value;
  const close = (v) => {
    value = v;
    if (el.open) el.close();
  };
  const footer = actions.length
    ? h("div", { class: "dialog-footer" }, actions.map((a) => h("button", {
        type: "button",
        class: ["btn", `btn-${a.kind || "secondary"}`],
        autofocus: a.autofocus || undefined,
        onclick: () => close(a.value),
      }, a.label)))
    : null;
  append(el, [
    h("div", { class: "dialog-header" },
      h("h2", { id: titleId }, title || ""),
      dismissable ? h("button", { type: "button", class: "btn btn-ghost btn-icon btn-sm", "aria-label": "Cerrar", onclick: () => close(undefined) }, icon("x")) : null,
    ),
    h("div", { class: "dialog-body" }, body),
    footer,
  ]);
  el.addEventListener("cancel", (e) => { if (!dismissable) e.preventDefault(); });
  el.addEventListener("click", (e) => {
    // a click on the backdrop lands on the dialog element itself
    if (dismissable && e.target === el) {
      const r = el.getBoundingClientRect();
      const inside = e.clientX >= r.left && e.clientX <= r.right && e.clientY >= r.top && e.clientY <= r.bottom;
      if (!inside) close(undefined);
    }
  });
  el.addEventListener("close", () => {
    resolve(value);
    el.remove();
  });
  document.body.append(el);
  el.showModal();
  return { el, result, close };
}

/**
 * confirm({name, title, message, confirmLabel, cancelLabel, danger}) → Promise<boolean>
 */
export function confirm({ name, title = "¿Confirmar?", message = "", confirmLabel = "Confirmar", cancelLabel = "Cancelar", danger = false } = {}) {
  const d = dialog({
    name,
    title,
    body: message,
    actions: [
      { label: cancelLabel, kind: "secondary", value: false },
      { label: confirmLabel, kind: danger ? "danger" : "primary", value: true, autofocus: true },
    ],
  });
  return d.result.then((v) => v === true);
}

/**
 * prompt({name, title, label, value, placeholder, type, confirmLabel, hint}) → Promise<string|null>
 */
export function prompt({ name, title, label, value = "", placeholder = "", type = "text", confirmLabel = "Aceptar", hint = "" } = {}) {
  const input = h("input", { class: "input", type, value, placeholder, id: "ui-prompt-input", autocomplete: "off" });
  const form = h("form", { class: "field", method: "dialog" },
    label ? h("label", { for: "ui-prompt-input" }, label) : null,
    input,
    hint ? h("div", { class: "hint" }, hint) : null,
  );
  const d = dialog({
    name,
    title,
    body: form,
    actions: [
      { label: "Cancelar", kind: "secondary", value: null },
      { label: confirmLabel, kind: "primary", value: "ok" },
    ],
  });
  form.addEventListener("submit", (e) => { e.preventDefault(); d.close("ok"); });
  input.focus();
  return d.result.then((v) => (v === "ok" ? input.value : null));
}

/**
 * drawer({name, title, body, footer, wide, onClose}) → {el, body, setTitle(text), close()}
 *
 * A side panel (details of a row, a conversation, a ticket). body/footer:
 * Node, string or array; `drawer.body` is the element to re-render into.
 */
export function drawer({ name, title = "", body = null, footer = null, wide = false, onClose } = {}) {
  const titleEl = h("h2", { id: "ui-drawer-title" }, title);
  const bodyEl = h("div", { class: "drawer-body" }, body);
  const el = h("dialog", { class: ["drawer", wide && "wide"], "aria-labelledby": "ui-drawer-title", "data-dialog": name },
    h("div", { class: "drawer-header" },
      titleEl,
      h("button", { type: "button", class: "btn btn-ghost btn-icon", "aria-label": "Cerrar panel", onclick: () => close() }, icon("x")),
    ),
    bodyEl,
    footer ? h("div", { class: "drawer-footer" }, footer) : null,
  );
  el.addEventListener("click", (e) => {
    if (e.target === el) {
      const r = el.getBoundingClientRect();
      if (e.clientX < r.left) close();
    }
  });
  el.addEventListener("close", () => {
    el.remove();
    if (onClose) onClose();
  });
  const close = () => { if (el.open) el.close(); };
  document.body.append(el);
  el.showModal();
  return { el, body: bodyEl, setTitle: (t) => { titleEl.textContent = t; }, close };
}
