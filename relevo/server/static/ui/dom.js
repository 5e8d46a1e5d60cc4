// DOM helpers: h() builds elements, icon() draws the kit's line icons.

const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * h(tag, attrs, ...children) → Element
 *
 * attrs:
 *   class / className: string, array (falsy items skipped) or {name: bool}
 *   style: string or object ({color: "red", "--value": "40%"})
 *   on<event>: a function → addEventListener (onclick, oninput, …)
 *   dataset: object → data-* attributes; "data-x" / "aria-x" work too
 *   value, checked, selected, disabled, hidden, … set as properties
 *   true → empty attribute, false / null / undefined → omitted
 * children: strings, numbers, Nodes, arrays (flattened); null/false skipped.
 * "svg:path" creates an SVG element.
 */
export function h(tag, attrs, ...children) {
  if (attrs != null && (typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  const svg = tag.startsWith("svg:");
  const el = svg ? document.createElementNS(SVG_NS, tag.slice(4)) : document.createElement(tag);
  if (attrs) setAttrs(el, attrs);
  append(el, children);
  return el;
}

const PROPS = new Set(["value", "checked", "selected", "disabled", "hidden", "indeterminate", "open"]);

export function setAttrs(el, attrs) {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) {
      if (PROPS.has(name) && name in el) el[name] = false;
      else if (!name.startsWith("on")) el.removeAttribute(name === "className" ? "class" : name);
      continue;
    }
    if (name === "class" || name === "className") {
      el.setAttribute("class", classNames(value));
    } else if (name === "style") {
      if (typeof value === "string") el.setAttribute("style", value);
      else for (const [k, v] of Object.entries(value)) {
        if (k.startsWith("--")) el.style.setProperty(k, v);
        else el.style[k] = v;
      }
    } else if (name === "dataset") {
      Object.assign(el.dataset, value);
    } else if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (PROPS.has(name) && name in el) {
      el[name] = value;
    } else if (value === true) {
      el.setAttribute(name, "");
    } else {
      el.setAttribute(name, String(value));
    }
  }
  return el;
}

export function classNames(value) {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.filter(Boolean).map(classNames).join(" ");
  if (value && typeof value === "object") {
    return Object.entries(value).filter(([, on]) => on).map(([k]) => k).join(" ");
  }
  return "";
}

/** Append children (see h()) to el; returns el. */
export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false || child === true) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replace all of el's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

// Line icons on a 24×24 grid, stroke = currentColor (drawn for this kit).
const ICONS = {
  x: ["M18 6 6 18", "M6 6l12 12"],
  check: ["M20 6 9 17l-5-5"],
  search: ["c11 11 7", "m20 20-3.6-3.6"],
  refresh: ["M20 11a8 8 0 1 0-2.3 5.7", "M20 4v7h-7"],
  user: ["c12 8 4", "M4 21a8 8 0 0 1 16 0"],
  users: ["c9 8 4", "M2 21a7 7 0 0 1 14 0", "M16 4.2a4 4 0 0 1 0 7.6", "M22 21a7 7 0 0 0-4-6.3"],
  alert: ["M12 3 2 20h20L12 3z", "M12 10v4", "M12 17h.01"],
  info: ["c12 12 9", "M12 11v5", "M12 8h.01"],
  success: ["c12 12 9", "m8 12 3 3 5-6"],
  danger: ["c12 12 9", "M12 7v6", "M12 16.5h.01"],
  activity: ["M22 12h-4l-3 8L9 4l-3 8H2"],
  inbox: ["M22 12h-6l-2 3h-4l-2-3H2", "M5.5 5h13L22 12v6a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2v-6L5.5 5z"],
  clock: ["c12 12 9", "M12 7v5l3 2"],
  chevron: ["m9 6 6 6-6 6"],
  "chevron-left": ["m15 6-6 6 6 6"],
  "chevron-down": ["m6 9 6 6 6-6"],
  external: ["M14 4h6v6", "M20 4 11 13", "M19 14v5a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V6a1 1 0 0 1 1-1h5"],
  key: ["c8 15 4", "m11 12 9-9", "m16 7 3 3"],
  apps: ["M4 4h6v6H4z", "M14 4h6v6h-6z", "M4 14h6v6H4z", "M14 14h6v6h-6z"],
  radio: ["c12 12 2", "M7.8 16.2a6 6 0 0 1 0-8.4", "M16.2 7.8a6 6 0 0 1 0 8.4",
    "M4.9 19.1a10 10 0 0 1 0-14.2", "M19.1 4.9a10 10 0 0 1 0 14.2"],
  plug: ["M9 2v5", "M15 2v5", "M6 7h12v4a6 6 0 0 1-12 0V7z", "M12 17v5"],
  book: ["M4 19V5a2 2 0 0 1 2-2h14v15H6a2 2 0 0 0-2 2v0a2 2 0 0 0 2 2h14"],
  code: ["m8 6-6 6 6 6", "m16 6 6 6-6 6"],
  shield: ["M12 3 4 6v6c0 5 3.5 8 8 9 4.5-1 8-4 8-9V6l-8-3z"],
  play: ["M7 4v16l13-8z"],
  pause: ["M8 5v14", "M16 5v14"],
  ticket: ["M3 8a2 2 0 0 0 0 4v0a2 2 0 0 1 0 4v2h18v-2a2 2 0 0 1 0-4v0a2 2 0 0 0 0-4V6H3v2z", "M14 6v12"],
  message: ["M21 12a8 8 0 0 1-11.6 7.1L3 21l1.9-6.4A8 8 0 1 1 21 12z"],
  truck: ["M2 6h12v10H2z", "M14 10h4l3 3v3h-7", "c6.5 18 2", "c17.5 18 2"],
  phone: ["M7 2h10v20H7z", "M11 18h2"],
  bell: ["M6 16V11a6 6 0 0 1 12 0v5l2 2H4l2-2z", "M10 21h4"],
  keyboard: ["M2 6h20v12H2z", "M6 10h.01", "M10 10h.01", "M14 10h.01", "M18 10h.01", "M7 14h10"],
  logout: ["M15 4h4a1 1 0 0 1 1 1v14a1 1 0 0 1-1 1h-4", "M10 16l-4-4 4-4", "M6 12h11"],
  plus: ["M12 5v14", "M5 12h14"],
  filter: ["M3 5h18l-7 8v6l-4 2v-8L3 5z"],
  more: ["M5 12h.01", "M12 12h.01", "M19 12h.01"],
  lock: ["M5 11h14v10H5z", "M8 11V7a4 4 0 0 1 8 0v4"],
  send: ["M22 2 11 13", "M22 2 15 22l-4-9-9-4 20-7z"],
  gauge: ["M12 14l4-4", "M3.5 18a10 10 0 1 1 17 0"],
};

/** icon("search") → <svg class="icon">; unknown names draw nothing. */
export function icon(name, { label, size } = {}) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", "icon");
  svg.dataset.icon = name;
  if (size) {
    svg.style.width = `${size}px`;
    svg.style.height = `${size}px`;
  }
  if (label) {
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", label);
  } else {
    svg.setAttribute("aria-hidden", "true");
  }
  for (const d of ICONS[name] || []) {
    let shape;
    if (d.startsWith("c")) {
      const [cx, cy, r] = d.slice(1).split(" ");
      shape = document.createElementNS(SVG_NS, "circle");
      shape.setAttribute("cx", cx);
      shape.setAttribute("cy", cy);
      shape.setAttribute("r", r);
    } else {
      shape = document.createElementNS(SVG_NS, "path");
      shape.setAttribute("d", d);
    }
    svg.append(shape);
  }
  return svg;
}

/** Replace every <i data-icon="name"></i> under root by its SVG (for static HTML). */
export function hydrateIcons(root = document) {
  for (const el of root.querySelectorAll("i[data-icon]")) {
    const svg = icon(el.dataset.icon, { label: el.getAttribute("aria-label") || undefined });
    if (el.className) svg.classList.add(...el.className.split(/\s+/).filter(Boolean));
    el.replaceWith(svg);
  }
}

/** Initials for an avatar: "Ana María Pérez" → "AP". */
export function initials(name) {
  const parts = String(name || "?").trim().split(/\s+/).filter(Boolean);
  if (!parts.length) return "?";
  const first = parts[0][0];
  const last = parts.length > 1 ? parts[parts.length - 1][0] : "";
  return (first + last).toUpperCase();
}

/** Escape text for the rare place a string must go into HTML. */
export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
