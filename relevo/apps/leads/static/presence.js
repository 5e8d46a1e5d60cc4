// Which asesores are online: each asesor's page subscribes to its own
// presencia:{id} channel (join/leave tracked by the server); the GTR follows
// every asesor's channel — the $join/$leave pushes, and the presence list
// whenever a subscription (re)starts, so a reconnect never leaves it stale.

export class Availability {
  constructor(rv, onChange) {
    this.rv = rv;
    this.onChange = onChange;
    this.clients = new Map(); // asesor id -> Set of client ids
    this.subs = new Map();
  }

  /** Follow these asesores (ids); stop following the others. */
  track(ids) {
    const want = new Set(ids);
    for (const [id, sub] of this.subs) {
      if (!want.has(id)) {
        sub.unsubscribe();
        this.subs.delete(id);
        this.clients.delete(id);
      }
    }
    for (const id of want) {
      if (this.subs.has(id)) continue;
      const ch = `presencia:${id}`;
      const sub = this.rv.subscribe(ch, () => {}, {
        onPresence: (msg) => this._push(id, msg),
        onSubscribed: () => this._refresh(id, ch),
        onReset: () => this._refresh(id, ch),
      });
      this.subs.set(id, sub);
    }
  }

  isOnline(id) {
    const set = this.clients.get(id);
    return !!set && set.size > 0;
  }

  _push(id, msg) {
    const d = msg.data || {};
    if (String(d.user) !== String(id)) return; // a GTR following the channel
    const set = this.clients.get(id) || new Set();
    if (msg.ev === "$join") set.add(d.client);
    else set.delete(d.client);
    this.clients.set(id, set);
    this.onChange(id);
  }

  async _refresh(id, ch) {
    try {
      const res = await this.rv.presence(ch);
      const set = new Set();
      for (const [client, info] of Object.entries(res.clients || {})) {
        if (String(info.user) === String(id)) set.add(client);
      }
      this.clients.set(id, set);
      this.onChange(id);
    } catch (err) {
      console.warn("presence of", ch, err);
    }
  }
}

export const AVAILABILITY = {
  disponible: ["En línea", "success"],
  ocupado: ["Ocupado", "warning"],
  ausente: ["Ausente", "neutral"],
};
