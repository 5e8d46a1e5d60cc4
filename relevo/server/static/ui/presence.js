// Who is online, for a staff screen: each person's page holds a channel of
// its own (`presencia:<id>`, `vendedor:<id>`; a namespace with join_leave and
// presence for staff); this follows those channels — the $join/$leave pushes,
// and the presence list whenever a subscription (re)starts, so a reconnect
// never leaves it stale.
//
//   const online = new Presence(rv, (id) => `vendedor:${id}`, (id) => repaint(id));
//   online.track(["v1", "v2"]);  online.isOnline("v1");

export class Presence {
  constructor(rv, channelOf, onChange) {
    this.rv = rv;
    this.channelOf = channelOf;
    this.onChange = onChange;
    this.clients = new Map(); // person id -> Set of client ids
    this.subs = new Map();
  }

  /** Follow these people (ids); stop following the others. */
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
      const ch = this.channelOf(id);
      this.subs.set(id, this.rv.subscribe(ch, () => {}, {
        onPresence: (msg) => this._push(id, msg),
        onSubscribed: () => this._refresh(id, ch),
        onReset: () => this._refresh(id, ch),
      }));
    }
  }

  isOnline(id) {
    const set = this.clients.get(id);
    return !!set && set.size > 0;
  }

  _push(id, msg) {
    const d = msg.data || {};
    if (String(d.user) !== String(id)) return; // a staff screen following the channel
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
