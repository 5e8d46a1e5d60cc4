// A table that is updated row by row, by key: a live change re-renders the
// cells that changed and flashes the row; nothing else on the table moves.

import { append, h, icon } from "./dom.js";
import { announce, flash } from "./feedback.js";

/**
 * table(container, options) → LiveTable
 *
 * options:
 *   columns: [{
 *     key: "nombre",            field shown (and compared) — optional with render
 *     label: "Cliente",         header text (Spanish); also the phone card label
 *     render: (row) => Node|string   default: row[key]
 *     value: (row) => any       what decides "this cell changed" (default row[key],
 *                               or the whole row for a render-only column)
 *     className: "num" | "muted" | "actions-cell" | …  class of <td>/<th>
 *     flash: false              a change here re-renders the cell without
 *                               highlighting the row (ages, "last seen")
 *     primary: true             the title line of the phone card
 *     width: "120px"
 *   }]
 *   key: "id" or (row) => key            row identity (default "id")
 *   sort: (a, b) => number               keep rows ordered (default: given order)
 *   onRowClick: (row, tr, event)         rows become focusable, Enter opens
 *   rowAttrs: (row) => attrs             extra attributes / class of <tr>
 *   empty: {icon, title, text} | Node    shown with no rows
 *   caption: "Leads asignados"           for screen readers
 *   cards: true                          on a phone, rows become cards
 *   compact: true                        denser rows
 *
 * LiveTable:
 *   set(rows, {flash})     make the table show exactly these rows (insert,
 *                          update, remove, reorder by key); flash: highlight
 *                          rows that are new or changed (default false)
 *   upsert(row, {flash})   insert or update one row (flash default true)
 *   remove(key)            drop one row
 *   get(key) / rows() / size / row(key) → <tr>
 *   filter(fn | null)      show only rows where fn(row) is true
 *   select(key | null)     mark one row aria-selected
 *   loading(n)             skeleton rows until the next set()
 */
export function table(container, options) {
  return new LiveTable(container, options);
}

export class LiveTable {
  constructor(container, options) {
    this.opts = { key: "id", cards: true, ...options };
    this.columns = this.opts.columns;
    const keyOpt = this.opts.key;
    this.keyOf = typeof keyOpt === "function" ? keyOpt : (row) => row[keyOpt];
    this.entries = new Map(); // key → {row, tr, sigs}
    this.trKeys = new WeakMap(); // tr → key
    this.order = [];
    this.predicate = null;

    if (container.tagName === "TABLE") {
      this.el = container;
      this.el.replaceChildren();
    } else {
      if (!container.classList.contains("table-wrap") && !container.classList.contains("card")) {
        container.classList.add("table-wrap");
      }
      this.el = h("table");
      container.replaceChildren(this.el);
    }
    this.el.classList.add("table");
    if (this.opts.cards) this.el.classList.add("table-cards");
    if (this.opts.compact) this.el.classList.add("table-compact");
    if (this.opts.caption) this.el.append(h("caption", { class: "sr-only" }, this.opts.caption));
    this.el.append(h("thead", h("tr", this.columns.map((c) => h("th", {
      scope: "col",
      class: c.className,
      style: c.width ? { width: c.width } : null,
    }, c.label ?? "")))));
    this.tbody = h("tbody");
    this.el.append(this.tbody);
    this.emptyRow = null;
    this.renderEmpty();
  }

  get size() {
    return this.entries.size;
  }

  get(key) {
    return this.entries.get(key)?.row;
  }

  row(key) {
    return this.entries.get(key)?.tr;
  }

  rows() {
    return this.order.map((k) => this.entries.get(k).row);
  }

  set(rows, { flash: doFlash = false } = {}) {
    this.clearSkeleton();
    const seen = new Set();
    const list = this.opts.sort ? [...rows].sort(this.opts.sort) : rows;
    const order = [];
    for (const row of list) {
      const key = this.keyOf(row);
      if (seen.has(key)) continue;
      seen.add(key);
      order.push(key);
      this.write(key, row, doFlash);
    }
    for (const key of [...this.entries.keys()]) {
      if (!seen.has(key)) this.drop(key);
    }
    this.order = order;
    this.place();
    this.renderEmpty();
    return this;
  }

  upsert(row, { flash: doFlash = true } = {}) {
    this.clearSkeleton();
    const key = this.keyOf(row);
    const isNew = !this.entries.has(key);
    this.write(key, row, doFlash);
    if (isNew || this.opts.sort) {
      const i = this.order.indexOf(key);
      if (i >= 0) this.order.splice(i, 1);
      this.order.splice(this.insertionIndex(row), 0, key);
      this.place();
    }
    this.renderEmpty();
    return this.entries.get(key).tr;
  }

  remove(key) {
    if (!this.entries.has(key)) return false;
    this.drop(key);
    this.order = this.order.filter((k) => k !== key);
    this.renderEmpty();
    return true;
  }

  filter(predicate) {
    this.predicate = predicate || null;
    for (const { row, tr } of this.entries.values()) {
      tr.hidden = this.predicate ? !this.predicate(row) : false;
    }
    this.renderEmpty();
    return this;
  }

  select(key) {
    for (const [k, { tr }] of this.entries) {
      if (k === key) tr.setAttribute("aria-selected", "true");
      else tr.removeAttribute("aria-selected");
    }
  }

  loading(n = 5) {
    this.clearSkeleton();
    if (this.emptyRow) this.emptyRow.hidden = true;
    this.skeleton = [];
    for (let i = 0; i < n; i++) {
      const tr = h("tr", { class: "skeleton-row", "aria-hidden": "true" }, this.columns.map((c, j) =>
        h("td", { class: c.className }, h("span", {
          class: "skeleton",
          style: { width: `${j === 0 ? 55 + ((i * 17) % 35) : 40 + ((i * 13 + j * 29) % 45)}%`, marginLeft: c.className?.includes("num") ? "auto" : null },
        }))));
      this.skeleton.push(tr);
      this.tbody.append(tr);
    }
    this.el.setAttribute("aria-busy", "true");
  }

  // -- internals -------------------------------------------------------------

  clearSkeleton() {
    if (!this.skeleton) return;
    for (const tr of this.skeleton) tr.remove();
    this.skeleton = null;
    this.el.removeAttribute("aria-busy");
  }

  signature(col, row) {
    const v = col.value ? col.value(row) : col.key !== undefined ? row[col.key] : row;
    return typeof v === "object" && v !== null ? JSON.stringify(v) : String(v);
  }

  renderCell(td, col, row) {
    const content = col.render ? col.render(row) : row[col.key];
    td.replaceChildren();
    append(td, [content ?? ""]);
  }

  write(key, row, doFlash) {
    const entry = this.entries.get(key);
    if (!entry) {
      const tr = h("tr", { "data-key": String(key) });
      const sigs = [];
      this.columns.forEach((col, i) => {
        const td = h("td", {
          class: [col.className, col.primary && "cell-primary"],
          "data-label": col.primary ? "" : col.label ?? "",
        });
        this.renderCell(td, col, row);
        sigs[i] = this.signature(col, row);
        tr.append(td);
      });
      this.decorate(tr, row);
      if (this.predicate) tr.hidden = !this.predicate(row);
      this.entries.set(key, { row, tr, sigs });
      this.trKeys.set(tr, key);
      if (doFlash) queueMicrotask(() => flash(tr));
      return;
    }
    let changed = false;
    this.columns.forEach((col, i) => {
      const sig = this.signature(col, row);
      if (sig !== entry.sigs[i]) {
        entry.sigs[i] = sig;
        this.renderCell(entry.tr.children[i], col, row);
        if (col.flash !== false) changed = true;
      }
    });
    entry.row = row;
    this.decorate(entry.tr, row);
    if (this.predicate) entry.tr.hidden = !this.predicate(row);
    if (changed && doFlash) flash(entry.tr);
  }

  decorate(tr, row) {
    if (this.opts.rowAttrs) {
      const attrs = this.opts.rowAttrs(row) || {};
      for (const [name, value] of Object.entries(attrs)) {
        if (name === "class") tr.className = value || "";
        else if (value == null || value === false) tr.removeAttribute(name);
        else tr.setAttribute(name, value === true ? "" : value);
      }
    }
    if (this.opts.onRowClick && !tr.dataset.clickable) {
      tr.dataset.clickable = "1";
      tr.classList.add("is-clickable");
      tr.tabIndex = 0;
      const open = (event) => {
        if (event.target.closest("button, a, input, select, label")) return;
        const entry = this.entries.get(this.keyFromTr(tr));
        if (entry) this.opts.onRowClick(entry.row, tr, event);
      };
      tr.addEventListener("click", open);
      tr.addEventListener("keydown", (e) => { if (e.key === "Enter" && e.target === tr) open(e); });
    }
    if (this.opts.onRowClick) tr.classList.add("is-clickable");
  }

  keyFromTr(tr) {
    return this.trKeys.get(tr);
  }

  drop(key) {
    const entry = this.entries.get(key);
    if (!entry) return;
    entry.tr.remove();
    this.entries.delete(key);
  }

  insertionIndex(row) {
    if (!this.opts.sort) return this.order.length;
    let lo = 0;
    let hi = this.order.length;
    const key = this.keyOf(row);
    const others = this.order.filter((k) => k !== key);
    hi = others.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.opts.sort(this.entries.get(others[mid]).row, row) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Move <tr>s only where the DOM order differs from this.order. */
  place() {
    let cursor = this.tbody.firstElementChild;
    for (const key of this.order) {
      const tr = this.entries.get(key).tr;
      while (cursor && !this.isRowOf(cursor)) cursor = cursor.nextElementSibling;
      if (cursor === tr) {
        cursor = cursor.nextElementSibling;
      } else {
        this.tbody.insertBefore(tr, cursor);
      }
    }
  }

  isRowOf(tr) {
    return tr.dataset.key !== undefined && tr !== this.emptyRow;
  }

  renderEmpty() {
    const visible = this.predicate
      ? [...this.entries.values()].some((e) => !e.tr.hidden)
      : this.entries.size > 0;
    if (visible || this.skeleton) {
      if (this.emptyRow) this.emptyRow.hidden = true;
      return;
    }
    const filtered = this.entries.size > 0;
    const spec = filtered
      ? { icon: "search", title: "Sin resultados", text: "Ninguna fila coincide con el filtro." }
      : this.opts.empty || { icon: "inbox", title: "Sin datos", text: "" };
    const content = spec instanceof Node ? spec : emptyState({ ...spec, small: true });
    if (!this.emptyRow) {
      this.emptyRow = h("tr", { class: "empty-row" }, h("td", { colspan: this.columns.length }));
      this.tbody.append(this.emptyRow);
    }
    this.emptyRow.firstElementChild.replaceChildren(content);
    this.emptyRow.hidden = false;
    this.tbody.append(this.emptyRow);
  }
}

/**
 * emptyState({icon, title, text, action: {label, run, kind}, small}) → Element
 */
export function emptyState({ icon: name = "inbox", title = "", text = "", action = null, small = false } = {}) {
  return h("div", { class: ["empty", small && "empty-sm"] },
    h("div", { class: "empty-icon" }, icon(name)),
    title ? h("div", { class: "empty-title" }, title) : null,
    text ? h("div", { class: "empty-text" }, text) : null,
    action ? h("button", { type: "button", class: ["btn", `btn-${action.kind || "secondary"}`], onclick: action.run }, action.label) : null,
  );
}

/**
 * syncTable(table, {announce}) → onChange(rows, change) for relevo.js live
 * collections (rv.live(kind, filter, {onChange})): a snapshot sets every row
 * without highlight; an insert / update upserts and flashes that row only; a
 * remove drops it. announce(change) may return a Spanish sentence for screen
 * readers ("Lead 12 pasó a En gestión").
 */
export function syncTable(tbl, { announce: say } = {}) {
  return (rows, change) => {
    const list = rows instanceof Map ? [...rows.values()] : rows;
    if (!change || change.type === "snapshot") {
      tbl.set(list);
      return;
    }
    if (change.type === "remove") tbl.remove(change.id);
    else tbl.upsert(change.row, { flash: true });
    const text = say ? say(change) : "";
    if (text) announce(text);
  };
}

/** A one-liner for live deltas: upsert + flash + announce to screen readers. */
export function liveUpdate(tbl, row, message) {
  const tr = tbl.upsert(row, { flash: true });
  if (message) announce(message);
  return tr;
}

