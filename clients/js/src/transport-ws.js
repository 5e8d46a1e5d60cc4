/** The WebSocket transport: one socket, opened, fed and closed for the client. */

import { RelevoError } from "./errors.js";

/** A WebSocket to the server's /ws: JSON text frames both ways. */
export class WSTransport {
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
    this.ws.onerror = () => {
      // A failed handshake: browsers follow with `close`, Node's WebSocket (22.x) does not.
      if (this.opened) return;
      this.ws.onclose = this.ws.onmessage = this.ws.onopen = this.ws.onerror = null;
      this._ended({ code: "network", message: "", reconnect: true });
    };
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
