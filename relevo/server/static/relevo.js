/**
 * relevo.js — the browser client of relevo. One ES2020 module, no dependencies,
 * no build step; relevo serves it at /relevo.js.
 *
 *   import * as relevo from "/relevo.js";
 *   const rv = relevo.connect();                       // the page's origin; or connect(url, {token})
 *   rv.on("state", (state, status) => console.log(state, status.reason));
 *   const sub = rv.subscribe("demo:lobby", (pub) => console.log(pub.off, pub.ev, pub.data));
 *
 * It reconnects forever (exponential backoff with jitter), resubscribes every
 * channel `since` its last offset so nothing is missed, drops duplicates by
 * offset, says when a gap cannot be closed (`onReset`), refreshes the token
 * in-band before it expires, falls back to Server-Sent Events where WebSocket
 * is blocked, and turns a records query into a live collection.
 * Guide: docs/client-js.md. Wire protocol: docs/protocol.md.
 *
 * An ES module only; for classic scripts add one line to the page:
 *   <script type="module">import * as relevo from "/relevo.js"; window.relevo = relevo;</script>
 */

export const VERSION = "0.1.0";

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
const AUTH_CODES = new Set(["unauthorized", "token_expired"]);

/** An error with a stable `code` (the server's codes, plus "timeout",
 * "disconnected", "network", "closed") and whether retrying may help. */
export class RelevoError extends Error {
  constructor(code, message, { retry = false, status = 0, extra = null } = {}) {
    super(message || code);
    Object.assign(this, { name: "RelevoError", code, retry, status, extra });
  }
}

/** Delay before reconnect attempt n (n >= 1): uniform in [min, min(max, min·2^n)]
 * — full jitter above a floor, so a restarted server is not hit by every
 * client at the same instant. */
export function backoffDelay(attempt, min = 250, max = 10000, random = Math.random) {
  const ceiling = Math.min(max, min * 2 ** Math.max(1, attempt));
  return Math.round(min + random() * (ceiling - min));
}

/** Open a client. `url` defaults to the page's origin (http(s):// or ws(s)://). */
export function connect(url, options) {
  if (url !== null && typeof url === "object") [url, options] = [undefined, url];
  return new Client(url, options);
}

// -- helpers -------------------------------------------------------------------------

function safeCall(fn, ...args) {
  if (typeof fn !== "function") return;
  try {
    fn(...args);
  } catch (err) {
    console.error("relevo: a callback threw", err);
  }
}

function toError(err, status = 0) {
  const { code = "internal", message = "", retry = false, ...extra } = err || {};
  return new RelevoError(code, message, { retry, status, extra });
}

function deferred(owner) {
  const promise = new Promise((resolve, reject) => Object.assign(owner, { _resolve: resolve, _reject: reject }));
  promise.catch(() => {}); // onError reports failures; awaiting `ready` is optional
  return promise;
}

/** The claims of a JWT, unverified (the server verifies): for `exp` and `sub`. */
function jwtClaims(token) {
  try {
    return JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))) || {};
  } catch (_) {
    return {};
  }
}

function jwtExpiry(token) {
  const { exp } = jwtClaims(token || "");
  return typeof exp === "number" ? exp : null;
}

const authHeaders = (token, extra = {}) => (token ? { ...extra, Authorization: `Bearer ${token}` } : extra);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** fetch() with a timeout on the response headers and errors as RelevoError. */
async function request(url, init, timeout, ctrl = new AbortController()) {
  const timer = setTimeout(() => ctrl.abort(), timeout);
  let res;
  try {
    res = await fetch(url, { cache: "no-store", ...init, signal: ctrl.signal });
  } catch (err) {
    const code = ctrl.signal.aborted ? "timeout" : "network";
    throw new RelevoError(code, `${code}: ${err.message}`, { retry: true });
  } finally {
    clearTimeout(timer);
  }
  if (res.ok) return res;
  const body = await res.json().catch(() => ({}));
  const retry = body.retry || res.status >= 500 || res.status === 429;
  const code = body.code || `http_${res.status}`;
  throw toError({ ...body, code, message: body.message || res.statusText, retry }, res.status);
}

// -- the client ------------------------------------------------------------------------

/** One logical connection; it outlives any number of sockets. Events:
 *  "state" (state, status): state is "connecting" | "connected" | "disconnected";
 *      status is {state, reason, message, transport, attempt, retryIn, everConnected}.
 *  "error" (err): an error frame no request was waiting for.
 *  "disconnect" (frame): the server's disconnect frame, before the socket closes. */
export class Client {
  constructor(url, options = {}) {
    this.options = { ...DEFAULTS };
    for (const [key, value] of Object.entries(options || {})) if (value !== undefined) this.options[key] = value;
    const base = new URL(url || location.origin, location.href);
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
    addEventListener("online", this._onOnline);
    document.addEventListener("visibilitychange", this._onVisible);
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
      if (this.state === "connected" && this._t) this._resync(fresh);
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
    removeEventListener("online", this._onOnline);
    document.removeEventListener("visibilitychange", this._onVisible);
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
        await Promise.all([...this._channels.values()].map((ch) => this._sub(ch)));
      }
    } catch (err) {
      if (t === this._t) t.close(err.code || "error", err.message);
      return;
    }
    if (t !== this._t) return;
    this._attempt = this._failedOpens = 0;
    this._worked.add(t.kind);
    this.everConnected = true;
    this._scheduleRefresh();
    this._startHeartbeat();
    if (t.kind === "sse") this._timers.probe = setTimeout(() => this._probe(), 30000);
    this._setState("connected", "");
    const late = [...this._channels.values()].filter((ch) => ch.state === "idle"); // added while opening
    if (late.length) t.kind === "sse" ? t.sync() : late.forEach((ch) => this._resync(ch));
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
    const offline = this._attempt > offlineAfter || navigator.onLine === false;
    this._setState(offline ? "disconnected" : "connecting", code, message);
    this._timers.retry = setTimeout(() => this._open(), this._retryIn);
  }

  _setState(state, reason, message = "") {
    const changed = state !== this.state;
    Object.assign(this, { state, reason: reason || "", _message: message });
    if (changed) this._emit("state", state, this.status);
  }

  _startHeartbeat() {
    const { pingInterval, pongTimeout } = this.options;
    this._pingSent = 0;
    clearTimeout(this._timers.beat);
    // The server pings at the WebSocket protocol level, which the browser answers
    // without telling us. This detects the reverse: a socket that died silently.
    this._timers.beat = setInterval(() => {
      const t = this._t;
      const now = Date.now();
      if (!t || this.state !== "connected") return;
      if (t.kind === "sse") {
        if (t.streaming && now - this._lastSeen > 2 * pingInterval + pongTimeout) t.close("no_pong");
        return;
      }
      const waiting = this._pingSent > this._lastSeen;
      if (waiting && now - this._pingSent > pongTimeout) t.close("no_pong");
      else if (!waiting && now - this._lastSeen > pingInterval) {
        this._pingSent = now;
        try {
          t.send({ op: "ping" });
        } catch (_) {
          t.close("network");
        }
      }
    }, Math.min(pingInterval, pongTimeout) / 2);
  }

  _scheduleRefresh() {
    clearTimeout(this._timers.refresh);
    const exp = this.info && this.info.expires;
    if (!exp || !this.options.getToken) return;
    const left = exp * 1000 - Date.now();
    this._timers.refresh = setTimeout(() => this._refresh(), Math.max(1000, left - Math.min(30000, left / 4)));
  }

  /** A fresh token before the current one expires, on the open connection. */
  async _refresh() {
    const t = this._t;
    if (!t || this.state !== "connected") return;
    try {
      const token = await this._getToken(true);
      if (t !== this._t) return;
      if (t.kind === "sse") {
        t.token = token; // no command channel: reopen the stream, every channel resuming
        t.sync();
        this.info = { ...this.info, expires: jwtExpiry(token) };
      } else {
        const res = await this._call({ op: "refresh", token }, true);
        this.info = { ...this.info, expires: res.expires };
      }
      this._scheduleRefresh();
    } catch (err) {
      // Try again shortly; if it never works the server says token_expired and we reconnect.
      if (t === this._t) this._timers.refresh = setTimeout(() => this._refresh(), 5000);
    }
  }

  /** After falling back to SSE, check now and then whether WebSocket works after all. */
  _probe() {
    const t = this._t;
    if (!t || t.kind !== "sse" || !this.options.transports.includes("websocket")) return;
    this._timers.probe = setTimeout(() => this._probe(), 60000);
    let ws;
    try {
      ws = new WebSocket(this.wsUrl);
    } catch (_) {
      return;
    }
    ws.onerror = () => {};
    ws.onopen = () => {
      ws.close();
      if (this._t !== t) return;
      this._kindIndex = this.options.transports.indexOf("websocket");
      this._worked.add("websocket");
      t.close("upgrade");
    };
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
      if (ch) this._subFailed(ch, toError({ code: msg.code || "forbidden", message: msg.message }));
    } else if (typeof msg.off === "number") {
      if (ch) this._deliver(ch, msg); // a publication
    } else if (typeof msg.ev === "string") {
      if (ch) for (const sub of [...ch.subs]) safeCall(sub._opts.onPresence, msg); // $join / $leave
    } else if (msg.ok) {
      if (ch) this._subscribed(ch, msg.ok, true); // an SSE subscribe result
    } else if (msg.err) {
      this._emit("error", toError(msg.err));
    }
  }

  // -- subscriptions -------------------------------------------------------------------------

  _resync(ch) {
    const t = this._t;
    if (!t) return;
    if (t.kind === "sse") t.sync();
    else this._sub(ch).catch((err) => t === this._t && t.close(err.code, err.message));
  }

  async _sub(ch) {
    const frame = { op: "sub", ch: ch.name };
    if (ch.offset !== null) frame.since = { epoch: ch.epoch, offset: ch.offset };
    ch.state = "subscribing";
    let res;
    try {
      res = await this._call(frame, true);
    } catch (err) {
      if (err.code === "timeout") throw err; // the caller drops the connection
      if (err.code !== "disconnected") this._subFailed(ch, err); // else: resubscribed on reconnect
      return;
    }
    this._subscribed(ch, res, false);
  }

  _subFailed(ch, err) {
    if (this._channels.get(ch.name) !== ch) return;
    const subs = [...ch.subs];
    if (err.retry) {
      ch.state = "idle";
      const current = () => this._channels.get(ch.name) === ch && ch.state === "idle" && this.state === "connected";
      const again = () => current() && this._resync(ch);
      setTimeout(again, backoffDelay(3, this.options.minDelay, this.options.maxDelay));
      for (const sub of subs) safeCall(sub._opts.onError, err);
    } else {
      this._channels.delete(ch.name);
      ch.state = "failed";
      for (const sub of subs) sub._failed(err);
    }
  }

  /** A subscribe result. `streamed`: the transport sends the missed publications
   * after the result (SSE) instead of inside it (WebSocket). */
  _subscribed(ch, res, streamed) {
    if (this._channels.get(ch.name) !== ch) return;
    const before = ch.offset;
    Object.assign(ch, { state: "live", everLive: true, epoch: res.epoch });
    if (res.recovered === false) {
      ch.offset = res.offset;
      for (const sub of [...ch.subs]) sub._reset(res);
      return;
    }
    if (res.recovered) for (const pub of res.missed || []) this._deliver(ch, pub);
    if (!(res.recovered && streamed)) ch.offset = Math.max(ch.offset ?? 0, res.offset);
    for (const sub of [...ch.subs]) sub._live(res, res.recovered ? res.offset - before : undefined);
  }

  _deliver(ch, pub) {
    if (ch.state !== "live") return; // a resubscribe is under way and replays this
    if (ch.offset !== null) {
      if (pub.off <= ch.offset) return; // a duplicate: delivery is at-least-once
      if (pub.off > ch.offset + 1) return this._gap(ch); // never a silent gap
    }
    ch.offset = pub.off;
    for (const sub of [...ch.subs]) sub._deliver(pub);
  }

  _gap(ch) {
    const t = this._t;
    if (!t) return;
    ch.state = "subscribing";
    if (t.kind === "sse") return t.sync();
    const again = () => this._channels.get(ch.name) === ch && this._resync(ch);
    this._call({ op: "unsub", ch: ch.name }, true).then(again, () => {});
  }

  _unsubscribe(sub) {
    const ch = this._channels.get(sub.channel);
    if (!ch || !ch.subs.delete(sub) || ch.subs.size) return;
    this._channels.delete(ch.name);
    const t = this._t;
    if (!t || ch.state === "idle") return;
    if (t.kind === "sse") t.sync();
    else this._call({ op: "unsub", ch: ch.name }, true).catch(() => {});
  }
}

/** One handle on a channel, from subscribe(). `state`: subscribing | live |
 * failed | closed; `ready` resolves once live, rejects if the server refuses. */
class Subscription {
  constructor(client, channel, handler, opts) {
    Object.assign(this, { client, channel, state: "subscribing", _handler: handler, _opts: opts });
    this._skipTo = null;
    this._needsReset = false;
    this.ready = deferred(this);
  }

  /** {epoch, offset} of the last publication delivered on this channel. */
  get position() {
    const ch = this.client._channels.get(this.channel);
    return ch && ch.offset !== null ? { epoch: ch.epoch, offset: ch.offset } : null;
  }

  unsubscribe() {
    if (this.state === "closed") return;
    this.state = "closed";
    this.client._unsubscribe(this);
  }

  _deliver(pub) {
    if (this.state === "closed" || (this._skipTo !== null && pub.off <= this._skipTo)) return;
    this._skipTo = null;
    safeCall(this._handler, pub);
  }

  _live(res, missed) {
    if (this.state === "closed") return;
    if (this._needsReset) return this._reset(res);
    this.state = "live";
    this._resolve(this);
    if (missed !== undefined) safeCall(this._opts.onRecovered, { missed, epoch: res.epoch, offset: res.offset });
    safeCall(this._opts.onSubscribed, res);
  }

  _reset(res) {
    if (this.state === "closed") return;
    Object.assign(this, { state: "live", _needsReset: false, _skipTo: null });
    this._resolve(this);
    safeCall(this._opts.onReset, { epoch: res.epoch, offset: res.offset });
    safeCall(this._opts.onSubscribed, res);
  }

  _failed(err) {
    this.state = "failed";
    safeCall(this._opts.onError, err);
    this._reject(err);
  }
}

// -- transports ------------------------------------------------------------------------------

class WSTransport {
  constructor(client) {
    Object.assign(this, { client, kind: "websocket", opened: false, disconnect: null });
  }

  open(token) {
    this.token = token;
    try {
      this.ws = new WebSocket(this.client.wsUrl);
    } catch (err) {
      return setTimeout(() => this._ended({ code: "network", message: err.message }));
    }
    this.ws.onopen = () => {
      this.opened = true;
      this.client._onTransportOpen(this);
    };
    this.ws.onmessage = (e) => this.client._onMessage(this, e.data);
    this.ws.onclose = (e) => {
      // The server's disconnect frame, if it said why.
      const d = this.disconnect || { code: "network", message: e.reason, reconnect: true };
      this._ended({ code: d.code, message: d.message, reconnect: d.reconnect });
    };
  }

  send(frame) {
    if (!this.ws || this.ws.readyState !== 1) {
      throw new RelevoError("disconnected", "the socket is not open", { retry: true });
    }
    this.ws.send(JSON.stringify(frame));
  }

  close(code = "closed", message = "") {
    if (this.ws) {
      this.ws.onclose = this.ws.onmessage = this.ws.onopen = null;
      this.ws.close(1000);
    }
    this._ended({ code, message });
  }

  _ended(info) {
    if (this.done) return;
    this.done = true;
    this.client._onTransportClose(this, { ...info, opened: this.opened });
  }
}

/** Server-Sent Events over fetch(), not EventSource: fetch shows the HTTP status
 * (a refused channel is not retried forever), sends the token in a header
 * rather than the URL, and resumes from the client's own positions. */
class SSETransport {
  constructor(client) {
    Object.assign(this, { client, kind: "sse", opened: false, streaming: false, stream: 0, disconnect: null });
  }

  open(token) {
    this.token = token;
    this.sync();
  }

  /** (Re)open the stream for the client's current channels, each resuming from its
   * position (`last_event_id`), so a reopen loses nothing. Coalesced. */
  sync() {
    clearTimeout(this.syncTimer);
    this.syncTimer = setTimeout(() => this._connect());
  }

  close(code = "closed", message = "") {
    this.stream++;
    clearTimeout(this.syncTimer);
    if (this.ctrl) this.ctrl.abort();
    this.client._onTransportClose(this, { code, message, opened: this.opened });
  }

  async _connect() {
    const c = this.client;
    const id = ++this.stream;
    if (this.ctrl) this.ctrl.abort();
    const ctrl = (this.ctrl = new AbortController());
    const channels = [...c._channels.values()];
    this.streaming = channels.length > 0;
    if (!channels.length) return this._opened();
    const url = new URL(`${c.httpBase}/sse`);
    const positions = [];
    for (const ch of channels) {
      url.searchParams.append("ch", ch.name);
      if (ch.offset !== null) positions.push(`${ch.name}=${ch.epoch}:${ch.offset}`);
      ch.state = "subscribing";
    }
    if (positions.length) url.searchParams.set("last_event_id", positions.join(";"));
    this.expect = new Set(channels.map((ch) => ch.name));
    let res;
    try {
      const headers = authHeaders(this.token, { Accept: "text/event-stream" });
      res = await request(url, { headers }, c.options.timeout, ctrl);
    } catch (err) {
      if (id !== this.stream) return;
      if (![400, 403, 404].includes(err.status)) return this._end(id, { code: err.code, message: err.message });
      this._refuse(channels, err); // fail the refused channel(s), stream the others
      return this._connect();
    }
    try {
      await this._read(res.body, id);
    } catch (_) {
      // aborted (a newer stream replaced this one) or broken: handled below
    }
    const d = this.disconnect || { code: "network", message: "the event stream ended", reconnect: true };
    this._end(id, { code: d.code, message: d.message, reconnect: d.reconnect });
  }

  /** The server refused the stream because of a channel: fail that one, keep the others. */
  _refuse(channels, err) {
    const blamed = (ch) => (err.extra && err.extra.channel === ch.name) || err.message.includes(ch.name);
    const named = channels.filter(blamed);
    const fresh = channels.filter((ch) => !ch.everLive);
    const culprits = named.length ? named : fresh.length ? fresh : channels;
    const refusal = new RelevoError(err.code, err.message, { status: err.status });
    for (const ch of culprits) this.client._subFailed(ch, refusal);
  }

  _end(id, info) {
    if (id !== this.stream) return;
    this.stream++;
    this.client._onTransportClose(this, { ...info, opened: this.opened });
  }

  _opened() {
    if (this.opened) return;
    this.opened = true;
    this.client._onTransportOpen(this);
  }

  async _read(body, id) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let data = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done || id !== this.stream) return;
      this.client._lastSeen = Date.now(); // comments (": ping") are signs of life too
      const lines = (buffer + value).split("\n");
      buffer = lines.pop();
      for (const line of lines.map((l) => l.replace(/\r$/, ""))) {
        if (line.startsWith("data:")) data.push(line.slice(line[5] === " " ? 6 : 5));
        else if (line === "" && data.length) {
          this._dispatch(data.join("\n"));
          data = [];
        }
      }
    }
  }

  _dispatch(text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch (_) {
      return;
    }
    if (msg.op === "disconnect") this.disconnect = msg;
    this.client._onFrame(this, msg);
    if (msg.ok && typeof msg.ok.ch === "string" && this.expect) {
      this.expect.delete(msg.ok.ch);
      if (!this.expect.size) this._opened();
    }
  }
}

// -- live collections ------------------------------------------------------------------------

/** The rows of a records query, kept current: a snapshot with its channel
 * position, then the channel's deltas, version-checked. `rows` is a Map by id,
 * updated in place; onChange(rows, change) with change.type "snapshot" |
 * "insert" | "update" | "remove" (`left: true` when a record left the filter). */
class LiveCollection {
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

  _matches(record) {
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

// -- helpers for pages -----------------------------------------------------------------------

/** Call `fn` every `intervalMs` while the tab is visible: paused while
 * `document.hidden`, run at once when the tab shows again, never overlapping
 * itself. Returns {now(), stop()}. For slow dashboards, not for live data. */
export function poll(fn, intervalMs, { immediate = true } = {}) {
  let timer = null;
  let running = false;
  let stopped = false;
  const run = async () => {
    if (running || stopped) return;
    running = true;
    try {
      await fn();
    } catch (err) {
      console.error("relevo.poll:", err);
    } finally {
      running = false;
    }
  };
  const schedule = () => {
    clearInterval(timer);
    timer = stopped || document.hidden ? null : setInterval(run, intervalMs);
  };
  const onVisibility = () => {
    if (!document.hidden) run();
    schedule();
  };
  document.addEventListener("visibilitychange", onVisibility);
  if (immediate && !document.hidden) run();
  schedule();
  const stop = () => {
    stopped = true;
    clearInterval(timer);
    document.removeEventListener("visibilitychange", onVisibility);
  };
  return { now: run, stop };
}

// Zero-specificity defaults; the UI kit (/static/ui/ui.css) styles the same classes.
const INDICATOR_CSS = `
:where(.conn){display:inline-flex;align-items:center;gap:.45em;white-space:nowrap}
:where(.conn-dot){width:.6em;height:.6em;border-radius:50%;flex:none;background:var(--danger-dot,#e5484d)}
:where(.conn[data-state=connected] .conn-dot){background:var(--success-dot,#22a455)}
:where(.conn[data-state=connecting] .conn-dot){background:var(--warning-dot,#f28c18);animation:relevo-pulse 1s infinite}
@keyframes relevo-pulse{50%{opacity:.35}}
@media (prefers-reduced-motion:reduce){:where(.conn-dot){animation:none}}`;

export const LABELS = {
  connected: "Conectado",
  connecting: "Reconectando…",
  disconnected: "Sin conexión",
  first: "Conectando…", // connecting, never connected yet
};

/** Show `client`'s connection state in `element`: a green / amber / red dot and a
 * Spanish label (the UI kit's `.conn` markup), `data-state` set to the state.
 * Returns a function that stops following. */
export function indicator(element, client, { labels = LABELS } = {}) {
  if (!document.getElementById("relevo-indicator-css")) {
    const style = Object.assign(document.createElement("style"), { id: "relevo-indicator-css" });
    style.textContent = INDICATOR_CSS;
    document.head.prepend(style); // first, so any page stylesheet wins
  }
  const dot = Object.assign(document.createElement("span"), { className: "conn-dot" });
  const label = Object.assign(document.createElement("span"), { className: "conn-label" });
  dot.setAttribute("aria-hidden", "true");
  element.classList.add("conn");
  element.setAttribute("role", "status");
  element.setAttribute("aria-live", "polite");
  element.replaceChildren(dot, label);
  const render = (state, s) => {
    const text = state === "connecting" && !s.everConnected ? labels.first : labels[state];
    element.dataset.state = state;
    label.textContent = text;
    element.title = `Conexión en tiempo real: ${text}${s.reason && state !== "connected" ? ` (${s.reason})` : ""}`;
  };
  render(client.state, client.status);
  return client.on("state", render);
}
