// A sparkline: a tiny inline SVG line (and area) for a series of numbers.

import { h } from "./dom.js";

/**
 * sparkline(values, {max, label}) → <svg class="spark">; update(el, values)
 * redraws it in place. Values are drawn left (oldest) to right (newest).
 */
export function sparkline(values = [], { label = "", max } = {}) {
  const svg = h("svg:svg", {
    class: "spark",
    viewBox: "0 0 100 28",
    preserveAspectRatio: "none",
    role: label ? "img" : null,
    "aria-label": label || null,
    "aria-hidden": label ? null : "true",
  }, h("svg:path", { class: "area" }), h("svg:path", { class: "line" }));
  updateSparkline(svg, values, { max });
  return svg;
}

export function updateSparkline(svg, values, { max } = {}) {
  const [area, line] = svg.querySelectorAll("path");
  if (!values.length) {
    area.setAttribute("d", "");
    line.setAttribute("d", "");
    return;
  }
  const top = Math.max(max ?? 0, ...values, 1e-9) * 1.2; // headroom: a steady rate is not a ceiling
  const step = values.length > 1 ? 100 / (values.length - 1) : 100;
  const pts = values.map((v, i) => [i * step, 26 - (Math.max(0, v) / top) * 23]);
  if (pts.length === 1) pts.unshift([0, pts[0][1]]);
  const d = pts.map(([x, y], i) => `${i ? "L" : "M"}${x.toFixed(2)} ${y.toFixed(2)}`).join(" ");
  line.setAttribute("d", d);
  area.setAttribute("d", `${d} L${pts[pts.length - 1][0].toFixed(2)} 28 L${pts[0][0].toFixed(2)} 28 Z`);
}
