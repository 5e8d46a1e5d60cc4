/** Channels and their recovery: one server subscription per channel shared
 * by its Subscription handles; resubscribing `since` the last offset after a
 * reconnect, dropping duplicates by offset, never a silent gap (a gap
 * resubscribes), and what a refused or dropped subscription tells its handles.
 *
 * A channel is {name, subs, epoch, offset, state, everLive}, kept in the
 * client's `_channels` map; its state is idle | subscribing | live | failed.
 * Each function takes the client `c` first. */

import { backoffDelay } from "./backoff.js";
import { safeCall } from "./util.js";

/** (Re)subscribe a channel on the current transport. */
export function resync(c, ch) {
  const t = c._t;
  if (!t) return;
  if (t.kind === "sse") t.sync();
  else subscribeChannel(c, ch).catch((err) => t === c._t && t.close(err.code, err.message));
}

/** The `sub` command, `since` the channel's position; a refusal fails the channel. */
export async function subscribeChannel(c, ch) {
  const frame = { op: "sub", ch: ch.name };
  if (ch.offset !== null) frame.since = { epoch: ch.epoch, offset: ch.offset };
  ch.state = "subscribing";
  let res;
  try {
    res = await c._call(frame, true);
  } catch (err) {
    if (err.code === "timeout") throw err; // the caller drops the connection
    if (err.code !== "disconnected") subFailed(c, ch, err); // else: resubscribed on reconnect
    return;
  }
  subscribed(c, ch, res, false);
}

/** The server refused (or dropped) the channel: retry later, or fail its handles. */
export function subFailed(c, ch, err) {
  if (c._channels.get(ch.name) !== ch) return;
  const subs = [...ch.subs];
  if (err.retry) {
    ch.state = "idle";
    const current = () => c._channels.get(ch.name) === ch && ch.state === "idle" && c.state === "connected";
    const again = () => current() && resync(c, ch);
    setTimeout(again, backoffDelay(3, c.options.minDelay, c.options.maxDelay));
    for (const sub of subs) safeCall(sub._opts.onError, err);
  } else {
    c._channels.delete(ch.name);
    ch.state = "failed";
    for (const sub of subs) sub._failed(err);
  }
}

/** A subscribe result. `streamed`: the transport sends the missed publications
 * after the result (SSE) instead of inside it (WebSocket). */
export function subscribed(c, ch, res, streamed) {
  if (c._channels.get(ch.name) !== ch) return;
  const before = ch.offset;
  Object.assign(ch, { state: "live", everLive: true, epoch: res.epoch });
  if (res.recovered === false) {
    ch.offset = res.offset;
    for (const sub of [...ch.subs]) sub._reset(res);
    return;
  }
  if (res.recovered) for (const pub of res.missed || []) deliver(c, ch, pub);
  if (!(res.recovered && streamed)) ch.offset = Math.max(ch.offset ?? 0, res.offset);
  for (const sub of [...ch.subs]) sub._live(res, res.recovered ? res.offset - before : undefined);
}

/** One publication, in order: duplicates dropped, a gap resubscribes. */
export function deliver(c, ch, pub) {
  if (ch.state !== "live") return; // a resubscribe is under way and replays this
  if (ch.offset !== null) {
    if (pub.off <= ch.offset) return; // a duplicate: delivery is at-least-once
    if (pub.off > ch.offset + 1) return gap(c, ch); // never a silent gap
  }
  ch.offset = pub.off;
  for (const sub of [...ch.subs]) sub._deliver(pub);
}

/** Offsets jumped: unsubscribe and subscribe again `since` the last one delivered. */
function gap(c, ch) {
  const t = c._t;
  if (!t) return;
  ch.state = "subscribing";
  if (t.kind === "sse") return t.sync();
  const again = () => c._channels.get(ch.name) === ch && resync(c, ch);
  c._call({ op: "unsub", ch: ch.name }, true).then(again, () => {});
}

/** A handle unsubscribed: the last one on a channel ends its server subscription. */
export function release(c, sub) {
  const ch = c._channels.get(sub.channel);
  if (!ch || !ch.subs.delete(sub) || ch.subs.size) return;
  c._channels.delete(ch.name);
  const t = c._t;
  if (!t || ch.state === "idle") return;
  if (t.kind === "sse") t.sync();
  else c._call({ op: "unsub", ch: ch.name }, true).catch(() => {});
}
