// The chat pane: one conversation's messages as a live query
// (t:<tenant>:conv:<id>), the header with its state and assignee, and the
// composer. Opening another conversation closes the previous live query.
// Opened while the server is unreachable, it says so (no endless spinner) and
// loads the messages as soon as the connection is back.
// The composer answers the customer or, in "Nota interna" mode, writes a note
// only the tenant's agents see (never sent); quick replies open on "/" or
// their button; the header shows the other agents looking at the
// conversation, and a line above the composer who of them is typing.

import * as ui from "/static/ui/ui.js";
import { mediaView, pickTemplate } from "./cloud.js";
import { api, errorText, fmtPhone } from "./common.js";
import { ProfilePanel } from "./profile.js";
import { Team, typingText, viewersView } from "./team.js";

const STATUS_TEXT = {
  pendiente: ["clock", "Pendiente"],
  enviado: ["check", "Enviado"],
  entregado: ["check", "Entregado"],
  leido: ["check", "Leído"],
  fallido: ["alert", "No se pudo enviar"],
};

/** The contact's initials, or a person icon for a number without a name. */
export function avatar(conv) {
  return ui.h("span", { class: "avatar", "aria-hidden": "true" }, conv.contact_name ? ui.initials(conv.contact_name) : ui.icon("user", { size: 16 }));
}

const MAX_NOTE = 2000; // notes.py

const byTime = (a, b) => (a.at ?? a.created_at) - (b.at ?? b.created_at) || Number(a.id) - Number(b.id);

export class ChatPane {
  /** onBack: the phone's back button (list and chat are two screens there). */
  constructor(root, { rv, session, agents, quick, onBack }) {
    Object.assign(this, { root, rv, session, agents, quick, onBack });
    this.team = new Team(rv, session, agents, () => this.paintTeam());
    this.profile = new ProfilePanel(agents);
    this.mode = "reply";
    this.conv = null;
    this.live = null;
    this.loaded = false;
    this.els = new Map();
    this.media = new Map();
    this.empty();
    rv.on("state", (state) => this.connection(state));
  }

  /** Messages not loaded yet: say why while offline; load at once when back. */
  connection(state) {
    if (!this.conv || this.loaded) return;
    if (state === "connected") this.load();
    else this.offline();
  }

  offline() {
    this.msgs.setAttribute("aria-busy", "false");
    this.msgs.replaceChildren(ui.h("div", { class: "alert alert-warning ib-msgs-offline", role: "status" }, ui.icon("alert"),
      ui.h("div", ui.h("div", { class: "alert-title" }, "Sin conexión con el servidor"),
        "Los mensajes de esta conversación se cargarán solos al volver la conexión.")));
  }

  /** (Re)start the conversation's live query; a spinner until its snapshot. */
  load() {
    if (this.live) this.live.close();
    const conv = this.conv;
    this.msgs.setAttribute("aria-busy", "true");
    this.msgs.replaceChildren(ui.h("div", { class: "ib-msgs-loading" }, ui.h("span", { class: "spinner" })));
    this.live = this.rv.live("inbox_message", { tenant: this.session.tenant, conversation_id: conv.id }, {
      newest: true, // a long conversation opens on its latest messages
      onChange: (rows, change) => this.render(rows, change),
      onError: (err) => this.msgs.replaceChildren(ui.h("div", { class: "alert alert-danger" }, ui.icon("danger"), ui.h("div", errorText(err)))),
    });
  }

  empty() {
    this.close();
    this.root.replaceChildren(ui.h("div", { class: "ib-chat-empty" },
      ui.emptyState({ icon: "message", title: "Elige una conversación", text: "Los mensajes nuevos aparecen al instante, sin recargar." })));
  }

  close() {
    this.team.leave();
    this.profile.close();
    this.picker?.destroy();
    this.picker = null;
    if (this.live) this.live.close();
    this.live = null;
    this.conv = null;
    this.loaded = false;
    this.els.clear();
    this.media.clear();
  }

  /** Show `conv` (a row of the conversations collection). */
  open(conv) {
    if (this.conv && this.conv.id === conv.id) return this.update(conv);
    this.close();
    this.conv = conv;
    // focusable: a long chat scrolls, and keyboard users scroll it with the arrows
    this.msgs = ui.h("div", { class: "ib-msgs", id: "msgs", role: "log", tabindex: 0, "aria-live": "polite", "aria-label": `Mensajes con ${conv.contact_name || fmtPhone(conv.contact_phone)}` });
    this.head = ui.h("header", { class: "ib-chat-head" });
    this.replyHint = matchMedia("(max-width: 760px)").matches ? "Escribe una respuesta…" : "Escribe una respuesta… (Intro envía, / respuestas rápidas)";
    this.input = ui.h("textarea", { class: "input", id: "reply", rows: 1, placeholder: this.replyHint, "aria-label": "Respuesta", maxlength: 4096 });
    this.sendBtn = ui.h("button", { type: "submit", class: "btn btn-primary", id: "send", "aria-label": "Enviar" }, ui.icon("send"), ui.h("span", { class: "hide-phone" }, "Enviar"));
    const templateBtn = ui.h("button", { type: "button", class: "btn btn-ghost btn-icon", id: "template", title: "Enviar una plantilla aprobada", "aria-label": "Enviar una plantilla",
      onclick: () => pickTemplate(this.conv.id).catch((err) => ui.toast(errorText(err), { kind: "danger" })) }, ui.icon("book"));
    const quickBtn = ui.h("button", { type: "button", class: "btn btn-ghost btn-icon", id: "quick-open", title: "Respuestas rápidas (/)", "aria-label": "Respuestas rápidas",
      onclick: () => this.picker.toggle() }, ui.icon("message"));
    const form = ui.h("form", { class: "ib-composer", onsubmit: (e) => { e.preventDefault(); this.send(); } }, templateBtn, quickBtn, this.input, this.sendBtn);
    this.input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.send();
      }
    });
    this.input.addEventListener("input", () => {
      this.autosize();
      if (this.mode === "reply" && this.input.value.trim() && !this.input.value.startsWith("/")) this.team.iAmTyping();
    });
    const mode = ui.h("div", { class: "segmented ib-mode", id: "compose-mode", "aria-label": "Escribir" },
      ui.h("button", { type: "button", "data-value": "reply", "aria-pressed": "true" }, "Responder"),
      ui.h("button", { type: "button", "data-value": "note", "aria-pressed": "false" }, ui.icon("lock", { size: 13 }), "Nota interna"));
    ui.segmented(mode, (value) => this.setMode(value));
    this.typingLine = ui.h("div", { class: "ib-typing small muted", id: "typing", "aria-live": "polite" });
    this.compose = ui.h("div", { class: "ib-compose", "data-mode": "reply" }, ui.h("div", { class: "ib-compose-bar" }, mode, this.typingLine), form);
    this.picker = this.quick.picker(this.input, this.compose);
    this.mode = "reply";
    this.root.replaceChildren(this.head, this.msgs, this.compose);
    this.update(conv);
    this.team.follow(conv.id);
    // The query is started either way (it retries by itself); offline, the pane says so.
    this.load();
    if (this.rv.state !== "connected") this.offline();
  }

  /** The conversation row changed (state, name, assignee). */
  update(conv) {
    this.conv = conv;
    this.profile.update(conv);
    const resolved = conv.state === "resuelta";
    const assign = ui.h("select", { class: "select select-sm", "aria-label": "Asignar a", id: "assign", onchange: (e) => this.assign(e.target.value || null) },
      ui.h("option", { value: "" }, "Sin asignar"),
      [...this.agents.values()].sort((a, b) => a.nombre.localeCompare(b.nombre)).map((a) =>
        ui.h("option", { value: a.id, selected: a.id === conv.assigned_to }, a.id === this.session.user ? `${a.nombre} (yo)` : a.nombre)));
    this.head.replaceChildren(
      ui.h("button", { type: "button", class: "btn btn-ghost btn-icon ib-back", id: "back", "aria-label": "Volver a las conversaciones", onclick: () => this.onBack?.() },
        ui.icon("chevron-left")),
      avatar(conv),
      ui.h("div", { class: "grow ib-chat-who" },
        ui.h("button", { type: "button", class: "strong truncate ib-chat-name", id: "profile-open", title: "Perfil del contacto", onclick: () => this.profile.open(this.conv) },
          conv.contact_name || fmtPhone(conv.contact_phone)),
        ui.h("div", { class: "muted small mono ib-chat-phone" }, fmtPhone(conv.contact_phone))),
      this.viewersSlot = ui.h("div", { class: "ib-viewers-slot" }, viewersView(this.team.viewers())),
      ui.h("div", { class: "ib-chat-actions" },
        ui.chip(conv.state),
        assign,
        ui.h("button", { type: "button", class: ["btn", "btn-sm", resolved ? "btn-secondary" : "btn-primary"], id: "resolve",
          onclick: (e) => this.move(resolved ? "reopen" : "resolve", e.currentTarget) },
          ui.icon(resolved ? "refresh" : "check"), resolved ? "Reabrir" : "Resolver")),
    );
  }

  /** The other agents here, and who of them is typing. */
  paintTeam() {
    if (!this.conv) return;
    this.viewersSlot?.replaceChildren(viewersView(this.team.viewers()) || "");
    this.typingLine.textContent = typingText(this.team.typing());
  }

  /** "reply" answers the customer; "note" writes an internal note. */
  setMode(mode) {
    this.mode = mode;
    this.compose.dataset.mode = mode;
    const note = mode === "note";
    this.input.placeholder = note ? "Nota interna: solo la ven los agentes de tu empresa; no se envía al cliente." : this.replyHint;
    this.input.setAttribute("aria-label", note ? "Nota interna" : "Respuesta");
    this.input.maxLength = note ? MAX_NOTE : 4096;
    this.sendBtn.lastChild.textContent = note ? "Guardar nota" : "Enviar";
    this.sendBtn.setAttribute("aria-label", note ? "Guardar nota" : "Enviar");
    this.input.focus();
  }

  render(rows, change) {
    this.loaded = true;
    this.msgs.removeAttribute("aria-busy");
    this.msgs.querySelector(".ib-msgs-offline")?.remove();
    const list = [...rows.values()].sort(byTime);
    const nearBottom = this.msgs.scrollHeight - this.msgs.scrollTop - this.msgs.clientHeight < 120;
    this.msgs.querySelector(".ib-msgs-loading")?.remove();
    let prev = null;
    let lastDay = "";
    for (const m of list) {
      const day = ui.fmtDate(m.at);
      if (day !== lastDay) {
        lastDay = day;
        const key = `day:${day}`;
        let sep = this.els.get(key);
        if (!sep) {
          sep = ui.h("div", { class: "ib-day" }, ui.h("span", day));
          this.els.set(key, sep);
        }
        prev = this.place(sep, prev);
      }
      let el = this.els.get(m.id);
      if (!el) {
        el = ui.h("div", { class: "ib-msg", "data-id": m.id, "data-dir": m.direction });
        this.els.set(m.id, el);
      }
      this.paint(el, m);
      prev = this.place(el, prev);
      if (change.type === "insert" && change.id === m.id && m.author && m.direction !== "in") this.team.stopTyping(m.author);
    }
    if (!list.length) this.msgs.replaceChildren(ui.emptyState({ icon: "message", small: true, title: "Sin mensajes todavía" }));
    if (change.type === "snapshot" || nearBottom || (change.row && change.row.direction === "out")) {
      this.msgs.scrollTop = this.msgs.scrollHeight;
    }
    if (change.type === "insert") ui.flash(this.els.get(change.id), { duration: 1200 });
  }

  place(el, prev) {
    const want = prev ? prev.nextSibling : this.msgs.firstChild;
    if (want !== el) this.msgs.insertBefore(el, want);
    return el;
  }

  paint(el, m) {
    const [iconName, label] = STATUS_TEXT[m.status] || [];
    el.dataset.status = m.status;
    if (m.direction === "note") {
      el.replaceChildren(
        ui.h("div", { class: "ib-msg-tag ib-note-tag" }, ui.icon("lock", { size: 12 }), "Nota interna"),
        ui.h("div", { class: "ib-msg-text" }, m.text),
        ui.h("div", { class: "ib-msg-meta" }, m.author_name ? ui.h("span", m.author_name) : null,
          ui.h("time", { datetime: new Date(m.at).toISOString() }, ui.fmtTime(m.at))));
      return;
    }
    el.replaceChildren(...[
      m.bulk_id ? ui.h("div", { class: "ib-msg-tag" }, ui.icon("send", { size: 12 }), "Envío masivo") : null,
      m.template ? ui.h("div", { class: "ib-msg-tag" }, ui.icon("book", { size: 12 }), "Plantilla") : null,
      m.media ? (this.media.get(m.id) || this.media.set(m.id, mediaView(m)).get(m.id)) : null,
      ui.h("div", { class: "ib-msg-text" }, m.text),
      m.status === "fallido" && m.error ? ui.h("div", { class: "ib-msg-error small" }, m.error) : null,
      ui.h("div", { class: "ib-msg-meta" },
        m.direction === "out" && m.author_name ? ui.h("span", m.author_name) : null,
        ui.h("time", { datetime: new Date(m.at).toISOString() }, ui.fmtTime(m.at)),
        m.direction === "out" && iconName ? ui.h("span", { class: "ib-status", title: label, role: "img", "aria-label": label }, ui.icon(iconName, { size: 13 }), m.status === "entregado" || m.status === "leido" ? ui.icon("check", { size: 13 }) : null) : null),
    ].filter(Boolean));
  }

  autosize() {
    this.input.style.height = "auto";
    this.input.style.height = `${Math.min(this.input.scrollHeight, 160)}px`;
  }

  /** The composer's text goes out: an answer, or in "Nota interna" mode a note. */
  async send() {
    const text = this.input.value.trim();
    if (!text || !this.conv) return;
    const id = this.conv.id;
    const note = this.mode === "note";
    try {
      await ui.busy(this.sendBtn, api(`/api/inbox/conversations/${encodeURIComponent(id)}/${note ? "notes" : "messages"}`, { method: "POST", body: { text } }));
      if (this.conv && this.conv.id === id) {
        this.input.value = "";
        this.autosize();
      }
    } catch (err) {
      if (err.body?.window === "closed") {
        ui.toast(errorText(err), { kind: "warning", title: "Fuera de la ventana de 24 horas" });
        return pickTemplate(id).catch((e) => ui.toast(errorText(e), { kind: "danger" }));
      }
      ui.toast(errorText(err), { kind: "danger", title: note ? "No se guardó la nota" : "No se envió el mensaje" });
    }
    this.input.focus();
  }

  async assign(agent) {
    try {
      await api(`/api/inbox/conversations/${encodeURIComponent(this.conv.id)}/assign`, { method: "POST", body: { agent } });
      const who = agent ? this.agents.get(agent)?.nombre : null;
      ui.toast(who ? `Asignada a ${who}.` : "Conversación sin asignar.", { kind: "success" });
    } catch (err) {
      ui.toast(errorText(err), { kind: "danger", title: "No se pudo asignar" });
    }
  }

  async move(action, button) {
    try {
      await ui.busy(button, api(`/api/inbox/conversations/${encodeURIComponent(this.conv.id)}/${action}`, { method: "POST" }));
    } catch (err) {
      ui.toast(errorText(err), { kind: "danger" });
    }
  }

  /** Mark as read when the agent is looking at it. */
  async markRead(conv) {
    if (!conv.unread || document.hidden) return;
    try {
      await api(`/api/inbox/conversations/${encodeURIComponent(conv.id)}/read`, { method: "POST" });
    } catch (_) {
      // it stays unread; the next look tries again
    }
  }
}
