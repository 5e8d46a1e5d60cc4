/** The Server-Sent Events transport, for networks that block WebSocket. */

import { RelevoError } from "./errors.js";
import { request } from "./http.js";
import { subFailed } from "./recovery.js";
import { authHeaders } from "./token.js";

/** Server-Sent Events over fetch(), not EventSource: fetch shows the HTTP status
 * (a refused channel is not retried forever), sends the token in a header
 * rather than the URL, and resumes from the client's own positions. */
export class SSETransport {
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
    for (const ch of culprits) subFailed(this.client, ch, refusal);
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
