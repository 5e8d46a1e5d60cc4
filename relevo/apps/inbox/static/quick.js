// Quick replies: the tenant's saved answers (inbox_quick_reply, a live query
// on t:<tenant>:inbox). In the composer "/" (in an empty box) or the button
// opens the list; typing after the "/" filters it; Enter or a click puts the
// answer's text in the box. A supervisor manages them ("Administrar").

import * as ui from "/static/ui/ui.js";
import { api, errorText } from "./common.js";

const MAX_TITLE = 60; // quick.py
const MAX_TEXT = 1000;

export class QuickReplies {
  constructor(rv, tenant, { supervisor }) {
    this.rows = new Map();
    this.supervisor = supervisor;
    this.listeners = new Set();
    rv.live("inbox_quick_reply", { tenant }, {
      onChange: (rows) => {
        this.rows = rows;
        for (const fn of this.listeners) fn();
      },
    });
  }

  sorted() {
    return [...this.rows.values()].sort((a, b) => a.titulo.localeCompare(b.titulo, "es"));
  }

  /** The picker of one composer: `input` the textarea, `anchor` where the list shows. */
  picker(input, anchor) {
    return new Picker(this, input, anchor);
  }

  /** The supervisor's dialog: every answer with "Borrar", and a form for a new one. */
  manage() {
    const list = ui.h("ul", { class: "list ib-quick-admin", "aria-label": "Respuestas rápidas" });
    const paint = () => list.replaceChildren(...(this.rows.size ? this.sorted().map((r) => ui.h("li", { class: "list-item", "data-id": r.id },
      ui.h("div", { class: "grow" }, ui.h("div", { class: "strong" }, r.titulo), ui.h("div", { class: "muted small ib-quick-text" }, r.texto)),
      ui.h("button", { type: "button", class: "btn btn-ghost btn-sm", "aria-label": `Borrar «${r.titulo}»`, onclick: (e) => this.remove(r, e.currentTarget) }, ui.icon("x"), "Borrar")))
      : [ui.h("li", ui.emptyState({ icon: "book", small: true, title: "Sin respuestas rápidas todavía" }))]));
    const title = ui.h("input", { class: "input", id: "quick-title", maxlength: MAX_TITLE, required: true, placeholder: "Horario" });
    const text = ui.h("textarea", { class: "input", id: "quick-text", maxlength: MAX_TEXT, rows: 3, required: true, placeholder: "Atendemos de 8 a 22 h, todos los días." });
    const save = ui.h("button", { type: "submit", class: "btn btn-primary", id: "quick-save" }, ui.icon("plus"), "Guardar respuesta");
    const form = ui.h("form", { class: "ib-quick-form", onsubmit: async (e) => {
      e.preventDefault();
      try {
        await ui.busy(save, api("/api/inbox/quick-replies", { method: "POST", body: { titulo: title.value, texto: text.value } }));
        title.value = "";
        text.value = "";
        title.focus();
      } catch (err) {
        ui.toast(errorText(err), { kind: "danger", title: "No se guardó" });
      }
    } },
    ui.h("label", { class: "field" }, ui.h("span", { class: "label" }, "Título"), title),
    ui.h("label", { class: "field" }, ui.h("span", { class: "label" }, "Texto"), text),
    save);
    paint();
    this.listeners.add(paint);
    const dlg = ui.dialog({ name: "inbox-quick", title: "Respuestas rápidas", wide: true, body: [list, form] });
    dlg.result.then(() => this.listeners.delete(paint));
    return dlg;
  }

  async remove(r, button) {
    try {
      await ui.busy(button, api(`/api/inbox/quick-replies/${encodeURIComponent(r.id)}`, { method: "DELETE" }));
    } catch (err) {
      ui.toast(errorText(err), { kind: "danger", title: "No se borró" });
    }
  }
}

class Picker {
  constructor(quick, input, anchor) {
    Object.assign(this, { quick, input, anchor });
    this.el = ui.h("div", { class: "ib-quick", id: "quick", hidden: true });
    this.list = ui.h("ul", { class: "ib-quick-list", role: "listbox", id: "quick-list", "aria-label": "Respuestas rápidas" });
    this.el.append(this.list);
    if (quick.supervisor) {
      this.el.append(ui.h("button", { type: "button", class: "btn btn-ghost btn-sm", id: "quick-manage", onclick: () => { this.close(); quick.manage(); } },
        ui.icon("more"), "Administrar respuestas"));
    }
    this.active = 0;
    this.slash = false;
    anchor.append(this.el);
    input.setAttribute("aria-controls", "quick-list");
    input.addEventListener("input", () => this.onInput());
    input.addEventListener("keydown", (e) => this.onKey(e), true);
    input.addEventListener("blur", () => setTimeout(() => { if (!this.el.contains(document.activeElement)) this.close(); }, 150));
    this.follow = () => { if (this.isOpen) this.paint(); };
    quick.listeners.add(this.follow);
  }

  /** The composer is gone (another conversation): stop following the list. */
  destroy() {
    this.quick.listeners.delete(this.follow);
    this.el.remove();
  }

  get isOpen() {
    return !this.el.hidden;
  }

  /** "/" at the start opens the list; what follows filters it. */
  onInput() {
    const v = this.input.value;
    if (v.startsWith("/") && !v.includes("\n")) this.open(true);
    else if (this.slash) this.close();
    else if (this.isOpen) this.paint();
  }

  open(slash = false) {
    this.slash = slash;
    this.el.hidden = false;
    this.active = 0;
    this.paint();
  }

  close() {
    this.el.hidden = true;
    this.slash = false;
  }

  toggle() {
    if (this.isOpen) this.close();
    else {
      this.open(false);
      this.input.focus();
    }
  }

  shown() {
    const q = this.slash ? this.input.value.slice(1).trim().toLowerCase() : "";
    return this.quick.sorted().filter((r) => !q || `${r.titulo} ${r.texto}`.toLowerCase().includes(q));
  }

  paint() {
    const rows = this.shown();
    this.active = Math.max(0, Math.min(this.active, rows.length - 1));
    this.list.replaceChildren(...(rows.length ? rows.map((r, i) => ui.h("li", {
      class: "ib-quick-item", role: "option", id: `quick-${r.id}`, "data-id": r.id, "aria-selected": String(i === this.active),
      onmousedown: (e) => e.preventDefault(), onclick: () => this.pick(r),
    }, ui.h("div", { class: "strong small" }, r.titulo), ui.h("div", { class: "muted small truncate" }, r.texto)))
      : [ui.h("li", { class: "ib-quick-none muted small" }, this.quick.rows.size ? "Ninguna coincide." : "Sin respuestas rápidas todavía.")]));
    const active = rows[this.active];
    if (active) this.input.setAttribute("aria-activedescendant", `quick-${active.id}`);
    else this.input.removeAttribute("aria-activedescendant");
  }

  onKey(e) {
    if (!this.isOpen) return;
    const rows = this.shown();
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      this.active = (this.active + (e.key === "ArrowDown" ? 1 : -1) + rows.length) % Math.max(rows.length, 1);
      this.paint();
    } else if (e.key === "Enter" && !e.shiftKey && rows[this.active]) {
      e.preventDefault();
      e.stopImmediatePropagation(); // not a send
      this.pick(rows[this.active]);
    } else if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      this.close();
    }
  }

  /** Put the answer in the box (in place of "/…", else at the caret). */
  pick(r) {
    const el = this.input;
    if (this.slash) el.value = r.texto;
    else {
      const at = el.selectionStart ?? el.value.length;
      el.value = el.value.slice(0, at) + r.texto + el.value.slice(el.selectionEnd ?? at);
    }
    this.close();
    el.focus();
    el.setSelectionRange(el.value.length, el.value.length);
    el.dispatchEvent(new Event("input"));
  }
}
