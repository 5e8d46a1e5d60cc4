/** The client: one logical connection that outlives any number of sockets —
 * its state machine (connecting / connected / disconnected), reconnects with
 * backoff, transport fallback, tokens, and requests with replies. Channels and
 * their recovery live in recovery.js, liveness and token refresh in liveness.js. */

import { backoffDelay } from "./backoff.js";
import { AUTH_CODES, RelevoError, toError } from "./errors.js";
import { request } from "./http.js";
import { LiveCollection } from "./live.js";
import { probe, scheduleRefresh, startHeartbeat } from "./liveness.js";
import { deliver, resync, subFailed, subscribeChannel, subscribed } from "./recovery.js";
import { Subscription } from "./subscription.js";
import { authHeaders, jwtClaims, jwtExpiry } from "./token.js";
import { SSETransport } from "./transport-sse.js";
import { WSTransport } from "./transport-ws.js";
import { safeCall } from "./util.js";

const DEFAULTS = {
  transports: ["websocket", "sse"], // in order of preference
  minDelay: 250, // ms: reconnect delay floor
  maxDelay: 10000, // ms: reconnect delay cap
  timeout: 10000, // ms a request waits for its reply
  pingInterval: 25000, // ms of silence before the client pings
  pongTimeout: 10000, // ms a ping may wait for any frame before the socket counts as dead
  fallbackAfter: 2, // failed opens of a never-working transport before trying the next one
  offlineAfter: 3, // failed attempts before "connecting" turns into "disconnected"
};

/** Open a client. `url` defaults to the page's origin (http(s):// or ws(s)://);
 * outside a browser (Node) it is required. */
export function connect(url, options) {
  if (url !== null && typeof url === "object") [url, options] = [undefined, url];
  return new Client(url, options);
}

// A browser reconnects at once when it comes back online or the tab shows again;
// Node has neither event.
const page = typeof document !== "undefined" && typeof addEventListener === "function";

/** One logical connection; it outlives any number of sockets. Events:
 *  "state" (state, status): state is "connecting" | "connected" | "disconnected";
 *      status is {state, reason, message, transport, attempt, retryIn, everConnected}.
 *  "error" (err): an error frame no request was waiting for.
 *  "disconnect" (frame): the server's disconnect frame, before the socket closes. */
export class Client {
  constructor(url, options = {}) {
    this.options = { ...DEFAULTS };
    for (const [key, value] of Object.entries(options || {})) if (value !== undefined) this.options[key] = value;
    const here = globalThis.location;
    if (!url && !here) throw new RelevoError("bad_request", "connect() needs a url outside a browser");
    const base = new URL(url || here.origin, here && here.href);
    base.protocol = base.protocol.replace(/^ws/, "http");
    this.httpBase = base.origin + base.pathname.replace(/\/(ws|sse)?\/?$/, "");
    this.wsUrl = this.httpBase.replace(/^http/, "ws") + "/ws";
    this.state = "connecting";
    this.reason = "";
    this.info = null; // {client, user, expires} of the current connection
    this.everConnected = false;
    this._handlers = {};
    this._channels = new Map(); // name -> {name, subs, epoch, offset, state, everLive}
    this._pending = new Map(); // request id -> {resolve, reject}
    this._nextId = 1;
    this._t = null; // the current transport
    this._attempt = 0;
    this._failedOpens = 0;
    this._kindIndex = 0;
    this._worked = new Set(); // transports that connected at least once
    this._token = this.options.token || "";
    this._tokenStale = false;
    this._closed = false;
    this._terminal = false;
    this._timers = {};
    this._lastSeen = this._pingSent = 0;
    this._onOnline = () => this.reconnect();
    this._onVisible = () => document.hidden || this.reconnect();
    if (page) {
      addEventListener("online", this._onOnline);
      document.addEventListener("visibilitychange", this._onVisible);
    }
    // After the caller's synchronous on()/subscribe() calls: the first socket carries them all.
    queueMicrotask(() => this._open());
  }

  get status() {
    const { state, reason, everConnected } = this;
    const transport = this._t ? this._t.kind : this._lastKind || null;
    const message = this._message || "";
    return { state, reason, message, transport, attempt: this._attempt, retryIn: this._retryIn || 0, everConnected };
  }

  /** Listen to an event; returns a function that stops listening. */
  on(name, fn) {
    (this._handlers[name] || (this._handlers[name] = new Set())).add(fn);
    return () => this.off(name, fn);
  }

  off(name, fn) {
    if (this._handlers[name]) this._handlers[name].delete(fn);
  }

  _emit(name, ...args) {
    for (const fn of [...(this._handlers[name] || [])]) safeCall(fn, ...args);
  }

  /** Subscribe to a channel; returns a Subscription. Options:
   *  onRecovered({missed, epoch, offset})  the gap after a reconnect was closed
   *  onReset({epoch, offset})              it could not be: reload your data
   *  onError(err)                          the server refused the subscription
   *  onPresence({ch, ev, data})            "$join" / "$leave" pushes
   *  onSubscribed(result)                  every (re)subscribe
   *  since: {epoch, offset}                resume from a known position
   * Subscriptions to one channel share one server subscription. */
  subscribe(channel, handler, opts = {}) {
    if (this._closed) throw new RelevoError("closed", "this client is closed");
    const sub = new Subscription(this, channel, handler, opts);
    const ch = this._channels.get(channel);
    if (!ch) {
      const { epoch = null, offset = null } = opts.since || {};
      const fresh = { name: channel, subs: new Set([sub]), epoch, offset, state: "idle", everLive: false };
      this._channels.set(channel, fresh);
      if (this.state === "connected" && this._t) resync(this, fresh);
      return sub;
    }
    ch.subs.add(sub);
    if (opts.since) {
      // The channel may already have delivered past `since`: then this handle must reload.
      if (ch.epoch !== opts.since.epoch || ch.offset === null || ch.offset > opts.since.offset) sub._needsReset = true;
      else sub._skipTo = opts.since.offset;
    }
    if (ch.state === "live") queueMicrotask(() => sub._live({ epoch: ch.epoch, offset: ch.offset }));
    return sub;
  }

  /** Publish from the browser (where the namespace allows client publish): {epoch, offset}. */
  publish(channel, event, data = null) {
    return this._call({ op: "pub", ch: channel, ev: event, data });
  }

  /** Retained publications, opts {since: {epoch, offset}, limit}: {epoch, offset, publications}. */
  history(channel, { since, limit } = {}) {
    return this._call({ op: "history", ch: channel, ...(since ? { since } : {}), ...(limit != null ? { limit } : {}) });
  }

  /** Who is subscribed: {clients: {clientId: {user, info}}}. */
  presence(channel) {
    return this._call({ op: "presence", ch: channel });
  }

  /** A live view of the records of `kind` matching `filter` ({field: value | [values]}). */
  live(kind, filter = {}, opts = {}) {
    return new LiveCollection(this, kind, filter, opts);
  }

  /** Connect now: after a terminal disconnect, or to skip the backoff wait. */
  reconnect() {
    if (this._closed || this._t || this.state === "connected") return;
    clearTimeout(this._timers.retry);
    this._attempt = 0;
    if (this._terminal) {
      this._terminal = false;
      this._setState("connecting", "reconnect");
    }
    this._open();
  }

  close() {
    if (this._closed) return;
    this._closed = true;
    if (page) {
      removeEventListener("online", this._onOnline);
      document.removeEventListener("visibilitychange", this._onVisible);
    }
    for (const timer of Object.values(this._timers)) clearTimeout(timer);
    if (this._t) this._t.close("closed");
    this._setState("disconnected", "closed");
  }

  // -- connection lifecycle --------------------------------------------------------------

  async _open() {
    if (this._closed || this._t) return;
    clearTimeout(this._timers.retry);
    const list = this.options.transports;
    let kind = list[this._kindIndex % list.length];
    // Move on only from a transport that never worked here: failures of one that
    // did are the network's or the server's, not a blocking proxy's.
    if (list.length > 1 && !this._worked.has(kind) && this._failedOpens >= this.options.fallbackAfter) {
      kind = list[++this._kindIndex % list.length];
      this._failedOpens = 0;
    }
    const t = (this._t = kind === "sse" ? new SSETransport(this) : new WSTransport(this));
    this._lastKind = kind;
    let token;
    try {
      token = await this._getToken();
    } catch (err) {
      // `opened`: not the transport's fault, so it does not count towards the fallback.
      const message = String(err && err.message);
      if (this._t === t) this._onTransportClose(t, { code: "token_error", message, opened: true });
      return;
    }
    if (this._t === t) t.open(token);
  }

  async _getToken(force = false) {
    const { getToken } = this.options;
    const exp = getToken && this._token ? jwtExpiry(this._token) : null;
    if (getToken && (force || this._tokenStale || !this._token || (exp && exp * 1000 - Date.now() < 5000))) {
      this._token = (await getToken()) || "";
      this._tokenStale = false;
    }
    return this._token;
  }

  async _onTransportOpen(t) {
    if (t !== this._t) return;
    this._lastSeen = Date.now();
    try {
      if (t.kind === "sse") {
        this.info = { user: String(jwtClaims(t.token || "").sub || ""), client: null, expires: jwtExpiry(t.token) };
      } else {
        // proxy: no token; the server asks the app's backend with the page's cookies.
        const connect = t.token ? { op: "connect", token: t.token } : this.options.proxy ? { op: "connect" } : null;
        this.info = connect ? await this._call(connect, true) : { user: "", client: null };
        await Promise.all([...this._channels.values()].map((ch) => subscribeChannel(this, ch)));
      }
    } catch (err) {
      if (t === this._t) t.close(err.code || "error", err.message);
      return;
    }
    if (t !== this._t) return;
    this._attempt = this._failedOpens = 0;
    this._worked.add(t.kind);
    this.everConnected = true;
    scheduleRefresh(this);
    startHeartbeat(this);
    if (t.kind === "sse") this._timers.probe = setTimeout(() => probe(this), 30000);
    this._setState("connected", "");
    const late = [...this._channels.values()].filter((ch) => ch.state === "idle"); // added while opening
    if (late.length) t.kind === "sse" ? t.sync() : late.forEach((ch) => resync(this, ch));
  }

  _onTransportClose(t, { code = "network", message = "", reconnect = true, opened = false } = {}) {
    if (t !== this._t) return;
    this._t = null;
    for (const name of ["beat", "refresh", "probe"]) clearTimeout(this._timers[name]);
    const pending = [...this._pending.values()];
    this._pending.clear();
    const gone = new RelevoError("disconnected", "the connection closed before the reply", { retry: true });
    for (const p of pending) p.reject(gone);
    for (const ch of this._channels.values()) ch.state = "idle";
    if (this._closed) return;
    if (!opened) this._failedOpens++;
    if (AUTH_CODES.has(code)) {
      this._tokenStale = true; // the next attempt asks getToken() for a fresh one
      // Through the connect proxy an expiry is a reason to ask the backend again.
      const reask = this.options.proxy && code === "token_expired";
      if (!this.options.getToken && !reask) reconnect = false;
    }
    if (!reconnect) {
      this._terminal = true;
      return this._setState("disconnected", code, message);
    }
    const { minDelay, maxDelay, offlineAfter } = this.options;
    this._attempt++;
    this._retryIn = code === "upgrade" ? 0 : backoffDelay(this._attempt, minDelay, maxDelay);
    const offline = this._attempt > offlineAfter || globalThis.navigator?.onLine === false;
    this._setState(offline ? "disconnected" : "connecting", code, message);
    this._timers.retry = setTimeout(() => this._open(), this._retryIn);
  }

  _setState(state, reason, message = "") {
    const changed = state !== this.state;
    Object.assign(this, { state, reason: reason || "", _message: message });
    if (changed) this._emit("state", state, this.status);
  }

  // -- requests and frames ---------------------------------------------------------------

  _whenConnected() {
    if (this.state === "connected" && this._t) return Promise.resolve();
    if (this._closed || this._terminal) return Promise.reject(new RelevoError("disconnected", "not connected"));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new RelevoError("timeout", "not connected in time", { retry: true }));
      }, this.options.timeout);
      const off = this.on("state", (state, s) => {
        if (state !== "connected" && !this._terminal && !this._closed) return;
        clearTimeout(timer);
        off();
        if (state === "connected") resolve();
        else reject(new RelevoError("disconnected", s.reason || "not connected"));
      });
    });
  }

  async _call(frame, direct = false) {
    if (!direct) await this._whenConnected();
    const t = this._t;
    if (!t) throw new RelevoError("disconnected", "not connected", { retry: true });
    if (t.kind === "sse") return this._httpCommand(frame);
    const id = this._nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this._pending.delete(id);
        reject(new RelevoError("timeout", `no reply to ${frame.op} in ${this.options.timeout} ms`, { retry: true }));
      }, this.options.timeout);
      const settle = (fn) => (value) => clearTimeout(timer) || fn(value);
      this._pending.set(id, { resolve: settle(resolve), reject: settle(reject) });
      try {
        t.send({ id, ...frame });
      } catch (err) {
        this._pending.delete(id);
        settle(reject)(err);
      }
    });
  }

  /** Over SSE there is no socket to send commands on: they go over HTTP. */
  async _httpCommand(frame) {
    const headers = authHeaders(await this._getToken(), { "Content-Type": "application/json" });
    let res;
    try {
      const init = { method: "POST", headers, body: JSON.stringify(frame) };
      res = await request(`${this.httpBase}/api/command`, init, this.options.timeout);
    } catch (err) {
      if (err.status !== 404 && err.status !== 405) throw err;
      throw new RelevoError("unavailable", `${frame.op} needs a WebSocket connection to this server`);
    }
    const body = await res.json();
    if (body.err) throw toError(body.err);
    return body.ok;
  }

  _onMessage(t, text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch (_) {
      return this._emit("error", new RelevoError("bad_request", "the server sent a frame that is not JSON"));
    }
    this._onFrame(t, msg);
  }

  _onFrame(t, msg) {
    if (t !== this._t || msg === null || typeof msg !== "object") return;
    this._lastSeen = Date.now();
    const ch = this._channels.get(typeof msg.ch === "string" ? msg.ch : msg.ok && msg.ok.ch);
    if (msg.id != null && ("ok" in msg || "err" in msg)) {
      const p = this._pending.get(msg.id);
      if (!p) return;
      this._pending.delete(msg.id);
      if ("err" in msg) p.reject(toError(msg.err));
      else p.resolve(msg.ok);
    } else if (msg.op === "disconnect") {
      t.disconnect = msg;
      this._emit("disconnect", msg);
    } else if (msg.op === "unsub") {
      // The server dropped the subscription (a refreshed token no longer allows it).
      if (ch) subFailed(this, ch, toError({ code: msg.code || "forbidden", message: msg.message }));
    } else if (typeof msg.off === "number") {
      if (ch) deliver(this, ch, msg); // a publication
    } else if (typeof msg.ev === "string") {
      if (ch) for (const sub of [...ch.subs]) safeCall(sub._opts.onPresence, msg); // $join / $leave
    } else if (msg.ok) {
      if (ch) subscribed(this, ch, msg.ok, true); // an SSE subscribe result
    } else if (msg.err) {
      this._emit("error", toError(msg.err));
    }
  }
}
