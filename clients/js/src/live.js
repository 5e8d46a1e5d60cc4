/** Live collections: a records query kept current by its channel's deltas. */

import { backoffDelay, sleep } from "./backoff.js";
import { AUTH_CODES } from "./errors.js";
import { request } from "./http.js";
import { authHeaders } from "./token.js";
import { deferred, safeCall } from "./util.js";

/** The rows of a records query, kept current: a snapshot with its channel
 * position, then the channel's deltas, version-checked. `rows` is a Map by id,
 * updated in place; onChange(rows, change) with change.type "snapshot" |
 * "insert" | "update" | "remove" (`left: true` when a record left the filter). */
export class LiveCollection {
  constructor(client, kind, filter, opts) {
    Object.assign(this, { client, kind, rows: new Map(), channel: null, position: null, _opts: opts });
    this.filter = {};
    for (const [field, value] of Object.entries(filter || {})) {
      const values = Array.isArray(value) ? value : typeof value === "string" ? value.split(",") : [value];
      this.filter[field] = values.map(String);
    }
    this._gen = 0;
    this._buffer = null;
    this._closed = false;
    // The last version of each row that left (or was deleted): two nodes may
    // publish a record's versions out of order, and an older one arriving
    // after the row left must not bring it back.
    this._gone = new Map();
    this.ready = deferred(this);
    this._load(true);
  }

  close() {
    this._closed = true;
    this._gen++;
    if (this._sub) this._sub.unsubscribe();
  }

  /** First load: the snapshot, then a subscription `since` its position. A
   * reload (the channel said `recovered: false`) keeps the live subscription
   * and buffers its deltas while the new snapshot loads: no history needed. */
  async _load(initial) {
    const gen = ++this._gen;
    const c = this.client;
    const ch = this.channel && c._channels.get(this.channel);
    const startedAt = ch ? { epoch: ch.epoch, offset: ch.offset } : null;
    if (!initial) this._buffer = [];
    let snap;
    for (let attempt = 1; !snap; attempt++) {
      try {
        snap = await this._fetch();
      } catch (err) {
        if (this._closed || gen !== this._gen) return;
        const auth = AUTH_CODES.has(err.code) && c.options.getToken;
        if (!err.retry && !auth) {
          this._buffer = null;
          safeCall(this._opts.onError, err);
          return this._reject(err);
        }
        c._tokenStale = c._tokenStale || Boolean(auth);
        await sleep(backoffDelay(attempt, c.options.minDelay, c.options.maxDelay));
      }
      if (this._closed || gen !== this._gen) return;
    }
    const buffered = this._buffer || [];
    this._buffer = null;
    if (!initial && startedAt && (startedAt.epoch !== snap.epoch || snap.offset < startedAt.offset)) {
      this._buffer = []; // a snapshot from another epoch, or older than our stream: again
      return void setTimeout(() => gen === this._gen && this._load(false), 500);
    }
    this.rows.clear();
    this._gone.clear();
    this._where = snap.where || null;
    for (const row of snap.rows) this.rows.set(row.id, row);
    // How many match, also past the limit (null if the server could not count):
    // kept current by the deltas that insert and remove.
    this.total = snap.total ?? (snap.more ? null : snap.rows.length);
    // A window of the newest *created* rows that left older ones out: an older
    // record changing later must not creep into it. (A window of the newest
    // *updated* rows takes every change: a change makes a record the newest.)
    const byCreation = this._opts.newest === true || this._opts.newest === "created";
    this._floor = byCreation && snap.more && snap.rows.length ? snap.rows[0].created_at : null;
    this.position = { epoch: snap.epoch, offset: snap.offset };
    for (const pub of buffered) if (pub.off > snap.offset) this._apply(pub, true);
    if (initial) {
      this.channel = snap.channel;
      const onPublication = (pub) => (this._buffer ? this._buffer.push(pub) : this._apply(pub, false));
      this._sub = c.subscribe(snap.channel, onPublication, {
        since: this.position,
        onReset: () => this._load(false),
        onError: (err) => safeCall(this._opts.onError, err),
      });
    }
    safeCall(this._opts.onChange, this.rows, { type: "snapshot" });
    this._resolve(this);
  }

  async _fetch() {
    const c = this.client;
    const url = new URL(`${c.httpBase}/api/records/${encodeURIComponent(this.kind)}`);
    for (const [field, values] of Object.entries(this.filter)) url.searchParams.set(field, values.join(","));
    if (this._opts.limit != null) url.searchParams.set("limit", String(this._opts.limit));
    if (this._opts.newest) url.searchParams.set("newest", this._opts.newest === true ? "created" : this._opts.newest);
    const res = await request(url, { headers: authHeaders(await c._getToken()) }, c.options.timeout);
    return res.json();
  }

  /** Does a changed record belong? By the filter as the server read it (the
   * snapshot's `where`: typed values, `null` for "empty"), so membership is
   * decided once, by the server's reading of the query. A server too old to
   * send `where`: the record's fields against the query's strings. */
  _matches(record) {
    if (this._where) {
      const same = (have, want) => (want === null ? have == null : have === want);
      return Object.entries(this._where).every(([f, values]) => values.some((v) => same(record[f], v)));
    }
    // `limit` shapes the snapshot only; the record's own fields decide membership.
    const ok = ([field, values]) => field === "limit" || values.includes(String(record[field]));
    return Object.entries(this.filter).every(ok);
  }

  _apply(pub, silent) {
    const d = pub.data;
    this.position = { epoch: this.position.epoch, offset: pub.off };
    if (!d || d.kind !== this.kind || d.id == null) return;
    const current = this.rows.get(d.id);
    const gone = this._gone.get(d.id);
    if (!current && gone != null && d.version != null && d.version <= gone) return; // stale: it left
    const versioned = current && d.version != null && current.version != null;
    const base = { id: d.id, delta: d, pub };
    let change;
    if (d.op === "delete") {
      if (d.version != null) this._gone.set(d.id, Math.max(d.version, gone ?? 0));
      if (!current || (versioned && d.version < current.version)) return;
      this.rows.delete(d.id);
      change = { ...base, type: "remove", row: current, left: false };
      if (this.total != null) this.total--;
    } else if (versioned && d.version <= current.version) {
      return; // stale: the row already has this version or a later one
    } else if (!d.record || !this._matches(d.record)) {
      if (d.version != null) this._gone.set(d.id, Math.max(d.version, gone ?? 0));
      if (!current) return;
      this.rows.delete(d.id);
      change = { ...base, type: "remove", row: current, left: true };
      if (this.total != null) this.total--;
    } else {
      const row = { ...d.record, id: d.id, version: d.version ?? d.record.version };
      if (!current && this.total != null && d.version === 1) this.total++; // created just now
      if (!current && this._floor != null && row.created_at < this._floor) return; // older than the window
      this.rows.set(d.id, row);
      this._gone.delete(d.id);
      change = { ...base, type: current ? "update" : "insert", row, previous: current };
    }
    if (this._gone.size > GONE_MAX) this._gone.delete(this._gone.keys().next().value); // oldest first
    if (!silent) safeCall(this._opts.onChange, this.rows, change);
  }
}

/** Rows a live collection remembers after they left (a reorder spans seconds, not thousands). */
const GONE_MAX = 10000;
