/** Liveness of the open connection: the client's dead-socket check (its own
 * pings), the in-band token refresh before expiry, and, after a fallback to
 * SSE, the probe that moves back to WebSocket once it works. Each function
 * takes the client `c`. */

import { jwtExpiry } from "./token.js";

/** Ping after `pingInterval` of silence; drop a socket silent for `pongTimeout` after. */
export function startHeartbeat(c) {
  const { pingInterval, pongTimeout } = c.options;
  c._pingSent = 0;
  clearTimeout(c._timers.beat);
  // The server pings at the WebSocket protocol level, which the browser answers
  // without telling us. This detects the reverse: a socket that died silently.
  c._timers.beat = setInterval(() => {
    const t = c._t;
    const now = Date.now();
    if (!t || c.state !== "connected") return;
    if (t.kind === "sse") {
      if (t.streaming && now - c._lastSeen > 2 * pingInterval + pongTimeout) t.close("no_pong");
      return;
    }
    const waiting = c._pingSent > c._lastSeen;
    if (waiting && now - c._pingSent > pongTimeout) t.close("no_pong");
    else if (!waiting && now - c._lastSeen > pingInterval) {
      c._pingSent = now;
      try {
        t.send({ op: "ping" });
      } catch (_) {
        t.close("network");
      }
    }
  }, Math.min(pingInterval, pongTimeout) / 2);
}

/** Refresh the token a quarter of its remaining life (at most 30 s) before it expires. */
export function scheduleRefresh(c) {
  clearTimeout(c._timers.refresh);
  const exp = c.info && c.info.expires;
  if (!exp || !c.options.getToken) return;
  const left = exp * 1000 - Date.now();
  c._timers.refresh = setTimeout(() => refresh(c), Math.max(1000, left - Math.min(30000, left / 4)));
}

/** A fresh token before the current one expires, on the open connection. */
async function refresh(c) {
  const t = c._t;
  if (!t || c.state !== "connected") return;
  try {
    const token = await c._getToken(true);
    if (t !== c._t) return;
    if (t.kind === "sse") {
      t.token = token; // no command channel: reopen the stream, every channel resuming
      t.sync();
      c.info = { ...c.info, expires: jwtExpiry(token) };
    } else {
      const res = await c._call({ op: "refresh", token }, true);
      c.info = { ...c.info, expires: res.expires };
    }
    scheduleRefresh(c);
  } catch (err) {
    // Try again shortly; if it never works the server says token_expired and we reconnect.
    if (t === c._t) c._timers.refresh = setTimeout(() => refresh(c), 5000);
  }
}

/** After falling back to SSE, check now and then whether WebSocket works after all. */
export function probe(c) {
  const t = c._t;
  if (!t || t.kind !== "sse" || !c.options.transports.includes("websocket")) return;
  c._timers.probe = setTimeout(() => probe(c), 60000);
  let ws;
  try {
    ws = new WebSocket(c.wsUrl);
  } catch (_) {
    return;
  }
  ws.onerror = () => {};
  ws.onopen = () => {
    ws.close();
    if (c._t !== t) return;
    c._kindIndex = c.options.transports.indexOf("websocket");
    c._worked.add("websocket");
    t.close("upgrade");
  };
}
