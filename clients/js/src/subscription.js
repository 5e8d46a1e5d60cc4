import { release } from "./recovery.js";
import { deferred, safeCall } from "./util.js";

/** One handle on a channel, from subscribe(). `state`: subscribing | live |
 * failed | closed; `ready` resolves once live, rejects if the server refuses. */
export class Subscription {
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
    release(this.client, this);
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
