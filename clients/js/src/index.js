/**
 * relevo — the client of relevo, for browsers and Node ≥ 22. ES2020 modules,
 * no dependencies, no build step: relevo serves these files as /relevo.js, and
 * they are the npm package @relevo/client.
 *
 *   import * as relevo from "/relevo.js";              // or from "@relevo/client"
 *   const rv = relevo.connect();                       // the page's origin; or connect(url, {token})
 *   rv.on("state", (state, status) => console.log(state, status.reason));
 *   const sub = rv.subscribe("demo:lobby", (pub) => console.log(pub.off, pub.ev, pub.data));
 *
 * It reconnects forever (exponential backoff with jitter), resubscribes every
 * channel `since` its last offset so nothing is missed, drops duplicates by
 * offset, says when a gap cannot be closed (`onReset`), refreshes the token
 * in-band before it expires, falls back to Server-Sent Events where WebSocket
 * is blocked, and turns a records query into a live collection.
 * Guide: docs/client-js.md. Wire protocol: docs/protocol.md. Types: index.d.ts.
 *
 * The parts, one job each: client.js (the connection's state machine and
 * requests), recovery.js (channels: resubscribe since, dedupe, gaps),
 * subscription.js (a handle), liveness.js (heartbeat, token refresh, probe),
 * transport-ws.js and transport-sse.js, live.js (live collections), errors.js,
 * backoff.js, token.js, http.js, page.js (browser helpers: poll, indicator).
 *
 * An ES module only; for classic scripts add one line to the page:
 *   <script type="module">import * as relevo from "/relevo.js"; window.relevo = relevo;</script>
 */

export const VERSION = "0.1.0";

export { backoffDelay } from "./backoff.js";
export { Client, connect } from "./client.js";
export { RelevoError } from "./errors.js";
export { indicator, LABELS, poll } from "./page.js";
