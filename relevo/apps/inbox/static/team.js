// The other agents on the open conversation: who is looking at it (presence
// on equipo:<tenant>:conv:<id> — the $join/$leave pushes, and the presence
// list whenever the subscription (re)starts) and who is typing (a `typing`
// publication, shown until TYPING_SHOWN passes without another). This page
// says it is typing through POST …/typing, at most every TYPING_EVERY.

import * as ui from "/static/ui/ui.js";
import { api } from "./common.js";

const TYPING_SHOWN = 4000; // team.py
const TYPING_EVERY = 2000;

export class Team {
  /** onChange(): the viewers or the typists changed. */
  constructor(rv, session, agents, onChange) {
    Object.assign(this, { rv, session, agents, onChange });
    this.sub = null;
    this.clients = new Map(); // client id -> user
    this.typists = new Map(); // user -> {nombre, timer}
    this.saidAt = 0;
  }

  follow(convId) {
    this.leave();
    this.convId = convId;
    const ch = `equipo:${this.session.tenant}:conv:${convId}`;
    this.channel = ch;
    this.sub = this.rv.subscribe(ch, (pub) => this.onPub(pub), {
      onPresence: (msg) => this.onPresence(msg),
      onSubscribed: () => this.refresh(ch),
      onReset: () => this.refresh(ch),
    });
  }

  leave() {
    this.sub?.unsubscribe();
    this.sub = null;
    this.convId = null;
    this.channel = null;
    this.clients.clear();
    for (const t of this.typists.values()) clearTimeout(t.timer);
    this.typists.clear();
  }

  /** The other agents here (one entry per agent, whatever their tabs). */
  viewers() {
    const users = new Set([...this.clients.values()].filter((u) => u !== this.session.user));
    return [...users].map((u) => ({ user: u, nombre: this.agents.get(u)?.nombre || u })).sort((a, b) => a.nombre.localeCompare(b.nombre, "es"));
  }

  typing() {
    return [...this.typists.values()].map((t) => t.nombre);
  }

  onPresence(msg) {
    const d = msg.data || {};
    if (msg.ev === "$join") this.clients.set(d.client, String(d.user));
    else this.clients.delete(d.client);
    if (msg.ev === "$leave" && ![...this.clients.values()].includes(String(d.user))) this.stopTyping(String(d.user));
    this.onChange();
  }

  async refresh(ch) {
    try {
      const res = await this.rv.presence(ch);
      if (this.channel !== ch) return; // another conversation by now
      this.clients = new Map(Object.entries(res.clients || {}).map(([c, info]) => [c, String(info.user)]));
      this.onChange();
    } catch (err) {
      console.warn("presence of", ch, err);
    }
  }

  onPub(pub) {
    const d = pub.data || {};
    if (pub.ev !== "typing" || !d.user || d.user === this.session.user) return;
    const known = this.typists.get(d.user);
    if (known) clearTimeout(known.timer);
    const timer = setTimeout(() => this.stopTyping(d.user), TYPING_SHOWN);
    this.typists.set(d.user, { nombre: this.agents.get(d.user)?.nombre || d.nombre || d.user, timer });
    if (!known) this.onChange();
  }

  /** Their message arrived, or they left: no longer typing. */
  stopTyping(user) {
    const t = this.typists.get(user);
    if (!t) return;
    clearTimeout(t.timer);
    this.typists.delete(user);
    this.onChange();
  }

  /** This agent typed in the composer: tell the others, at most every TYPING_EVERY. */
  iAmTyping() {
    const now = Date.now();
    if (!this.convId || now - this.saidAt < TYPING_EVERY || this.rv.state !== "connected") return;
    this.saidAt = now;
    api(`/api/inbox/conversations/${encodeURIComponent(this.convId)}/typing`, { method: "POST" }).catch(() => {});
  }
}

/** The header's "also here": an avatar per other agent. */
export function viewersView(viewers) {
  if (!viewers.length) return null;
  const names = viewers.map((v) => v.nombre);
  const label = `También en esta conversación: ${names.join(", ")}`;
  return ui.h("div", { class: "ib-viewers", id: "viewers", role: "img", title: label, "aria-label": label },
    viewers.slice(0, 3).map((v) => ui.h("span", { class: "avatar avatar-sm ib-viewer", "data-user": v.user }, ui.initials(v.nombre))),
    viewers.length > 3 ? ui.h("span", { class: "ib-viewers-more" }, `+${viewers.length - 3}`) : null);
}

/** "Sofía Rojas está escribiendo…" (or "… y … están escribiendo…"). */
export function typingText(names) {
  if (!names.length) return "";
  if (names.length === 1) return `${names[0]} está escribiendo…`;
  return `${names.slice(0, -1).join(", ")} y ${names.at(-1)} están escribiendo…`;
}
