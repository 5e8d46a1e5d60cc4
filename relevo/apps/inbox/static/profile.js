// The contact profile (a drawer from the chat header): the name agents know
// them by (editable; it then wins over WhatsApp's), the phone, the first
// contact, how many conversations ("atenciones": the customer came back after
// a resolve), the last message and who has it. Live: the open drawer follows
// the conversation record.

import * as ui from "/static/ui/ui.js";
import { api, errorText, fmtPhone } from "./common.js";

const MAX_NAME = 80; // contact.py

export class ProfilePanel {
  constructor(agents) {
    this.agents = agents;
    this.drawer = null;
    this.conv = null;
  }

  get isOpen() {
    return this.drawer !== null;
  }

  open(conv) {
    this.conv = conv;
    this.name = ui.h("input", { class: "input", id: "contact-name", maxlength: MAX_NAME, required: true, value: conv.contact_name || "", placeholder: fmtPhone(conv.contact_phone), autocomplete: "off" });
    this.save = ui.h("button", { type: "submit", class: "btn btn-primary btn-sm", id: "contact-save" }, ui.icon("check"), "Guardar nombre");
    const form = ui.h("form", { class: "field ib-profile-name", onsubmit: (e) => { e.preventDefault(); this.rename(); } },
      ui.h("label", { for: "contact-name" }, "Nombre del contacto"),
      ui.h("div", { class: "ib-profile-row" }, this.name, this.save),
      this.hint = ui.h("div", { class: "hint" }));
    this.facts = ui.h("dl", { class: "dl ib-profile-facts", id: "contact-facts" });
    this.drawer = ui.drawer({ name: "inbox-profile", title: "Perfil del contacto", body: [form, this.facts], onClose: () => { this.drawer = null; } });
    this.paint(conv);
  }

  /** The conversation changed (live): repaint, keeping a name being typed. */
  update(conv) {
    if (!this.drawer || conv.id !== this.conv.id) return;
    const typing = document.activeElement === this.name && this.name.value !== (this.conv.contact_name || "");
    this.conv = conv;
    if (!typing) this.name.value = conv.contact_name || "";
    this.paint(conv);
  }

  close() {
    this.drawer?.close();
  }

  paint(c) {
    const by = c.contact_name_by ? this.agents.get(c.contact_name_by)?.nombre || c.contact_name_by : null;
    this.hint.textContent = by ? `Nombre puesto por ${by}.` : "Hasta que alguien lo cambie, es el nombre de su perfil de WhatsApp.";
    const n = c.atenciones || 1;
    const rows = [
      ["Teléfono", ui.h("span", { class: "mono" }, fmtPhone(c.contact_phone))],
      ["Primer contacto", ui.h("span", { "data-fact": "primer" }, ui.fmtDateTime(c.first_at || c.created_at))],
      ["Conversaciones", ui.h("span", { "data-fact": "atenciones" }, ui.plural(n, "conversación", "conversaciones"))],
      ["Último mensaje", c.last_at ? ui.fmtDateTime(c.last_at) : "—"],
      ["Estado", ui.chip(c.state)],
      ["Asignada a", c.assigned_name || "Sin asignar"],
    ];
    this.facts.replaceChildren(...rows.flatMap(([k, v]) => [ui.h("dt", k), ui.h("dd", v)]));
  }

  async rename() {
    const id = this.conv.id;
    try {
      await ui.busy(this.save, api(`/api/inbox/conversations/${encodeURIComponent(id)}/contact`, { method: "POST", body: { name: this.name.value } }));
      ui.toast("Nombre guardado.", { kind: "success" });
    } catch (err) {
      ui.toast(errorText(err), { kind: "danger", title: "No se guardó el nombre" });
    }
  }
}
