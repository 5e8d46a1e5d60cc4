// Keyboard shortcuts for the frequent actions, with a "?" help overlay.

import { h } from "./dom.js";
import { dialog } from "./overlay.js";

const registry = new Map(); // combo → {run, label}
let listening = false;
let helpOpen = null;

function isTyping(target) {
  if (!(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag !== "INPUT") return false;
  const type = (target.getAttribute("type") || "text").toLowerCase();
  return !["checkbox", "radio", "button", "submit", "reset", "range", "color", "file"].includes(type);
}

/** Normalise "Ctrl+K", "mod+k", "shift+N" → "ctrl+k", "shift+n"; "?" stays "?". */
function normalise(combo) {
  const parts = combo.toLowerCase().split("+").map((p) => p.trim());
  const key = parts.pop() || "+";
  const mods = new Set(parts.map((m) => (m === "mod" ? (isMac() ? "meta" : "ctrl") : m)));
  return [...["ctrl", "alt", "meta", "shift"].filter((m) => mods.has(m)), key].join("+");
}

function fromEvent(event) {
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key.toLowerCase();
  const mods = [];
  if (event.ctrlKey) mods.push("ctrl");
  if (event.altKey) mods.push("alt");
  if (event.metaKey) mods.push("meta");
  // shift is implied by the character for symbols ("?", "/", "!"), explicit for letters
  if (event.shiftKey && /^[a-z0-9]$/.test(key)) mods.push("shift");
  if (event.shiftKey && key.length > 1) mods.push("shift");
  return [...mods, key].join("+");
}

function isMac() {
  return /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);
}

function onKeydown(event) {
  if (event.defaultPrevented || event.isComposing) return;
  const combo = fromEvent(event);
  // typing in a field: only Escape (blur) is ours
  if (isTyping(event.target)) {
    if (combo === "escape" && event.target.matches("[data-shortcut-blur], .toolbar .search input")) {
      event.target.blur();
    }
    return;
  }
  if (document.querySelector("dialog[open]") && combo !== "escape") return;
  const entry = registry.get(combo);
  if (!entry) return;
  event.preventDefault();
  entry.run(event);
}

/**
 * shortcuts({"n": fn, "/": focusSearch, "shift+a": {run, label}}, {labels}) → dispose()
 *
 * Keys are single characters or names ("escape", "arrowdown") with optional
 * modifiers "ctrl+", "alt+", "shift+", "meta+", "mod+" (⌘ on a Mac, Ctrl
 * elsewhere). Ignored while the user types in an input / textarea / select /
 * contenteditable, and while a dialog is open. A value may be a function or
 * {run, label}; labels (Spanish) show in the "?" overlay, which is always
 * registered. A "/" shortcut with a label-less function is described as
 * "Buscar".
 */
export function shortcuts(map, { labels = {} } = {}) {
  const added = [];
  for (const [combo, value] of Object.entries(map)) {
    const key = normalise(combo);
    const run = typeof value === "function" ? value : value.run;
    const label = (typeof value === "object" && value.label) || labels[combo] || (combo === "/" ? "Buscar" : combo);
    registry.set(key, { run, label, display: combo });
    added.push(key);
  }
  if (!registry.has("?")) {
    registry.set("?", { run: showHelp, label: "Mostrar los atajos de teclado", display: "?" });
  }
  if (!listening) {
    document.addEventListener("keydown", onKeydown);
    listening = true;
  }
  return () => {
    for (const key of added) registry.delete(key);
  };
}

function renderCombo(display) {
  const parts = display.split("+").filter(Boolean);
  if (display.endsWith("++")) parts.push("+");
  const names = { mod: isMac() ? "⌘" : "Ctrl", ctrl: "Ctrl", alt: "Alt", shift: "Mayús", meta: "⌘", escape: "Esc", enter: "Intro", arrowup: "↑", arrowdown: "↓", arrowleft: "←", arrowright: "→" };
  const out = [];
  parts.forEach((p, i) => {
    if (i) out.push(" + ");
    out.push(h("kbd", names[p.toLowerCase()] || (p.length === 1 ? p.toUpperCase() : p)));
  });
  return out;
}

/** Open the overlay listing every registered shortcut. */
export function showHelp() {
  if (helpOpen) return;
  const rows = [];
  for (const entry of registry.values()) {
    rows.push(h("dt", renderCombo(entry.display)), h("dd", entry.label));
  }
  helpOpen = dialog({
    name: "ui-shortcuts",
    title: "Atajos de teclado",
    body: h("dl", { class: "shortcut-list" }, rows),
    actions: [{ label: "Cerrar", kind: "secondary", value: true }],
  });
  helpOpen.result.finally(() => { helpOpen = null; });
}

/** A "/" handler: focus and select the page's search input. */
export function focusSearch(selector = "input[type=search], .toolbar .search input") {
  return () => {
    const input = document.querySelector(selector);
    if (input) {
      input.focus();
      input.select();
    }
  };
}
