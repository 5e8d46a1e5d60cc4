// RelevoClient: relevo's server HTTP API with the API key.
//
// Every call is safe to send again, so every call retries what may be
// retried: no answer at all (a refused, reset or dropped connection, a
// timeout), any 5xx, and an error the server marks `retry` (`rate_limited`).
// publish and broadcast are made safe by an idempotency key: the caller's, or
// one made up for the call, the same on every attempt, so a publish whose
// answer was lost is not published twice (the server answers the repeat with
// the first publication's offset). history, presence and disconnect are
// safe by nature. Back-off doubles from `backoff` ms, with jitter, at most 5 s.

import { randomBytes } from "node:crypto";

import { RelevoApiError } from "./errors.js";

const MAX_DELAY_MS = 5000;
const MAX_KEY = 256;

/** Milliseconds to wait before retry number `attempt` (0-based). */
export function retryDelay(attempt, backoff) {
  return Math.min(MAX_DELAY_MS, backoff * 2 ** attempt) * (0.5 + Math.random() / 2);
}

function channelName(channel) {
  if (typeof channel !== "string" || channel === "") {
    throw new RelevoApiError("bad_request", "channel must be a non-empty string");
  }
  return channel;
}

function nonNegativeInt(value, name) {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RelevoApiError("bad_request", `${name} must be a non-negative integer`);
  }
  return value;
}

export class RelevoClient {
  /**
   * @param {{url: string, apiKey: string, timeout?: number, retries?: number, backoff?: number}} options
   */
  constructor({ url, apiKey, timeout = 5000, retries = 3, backoff = 200 } = {}) {
    if (typeof url !== "string" || !/^https?:\/\//.test(url)) {
      throw new RelevoApiError("bad_request", "url must be the server's http(s) address");
    }
    if (typeof apiKey !== "string" || apiKey === "") {
      throw new RelevoApiError("bad_request", "apiKey is required");
    }
    this.url = url.replace(/\/+$/, "");
    this.timeout = nonNegativeInt(timeout, "timeout");
    this.retries = nonNegativeInt(retries, "retries");
    this.backoff = nonNegativeInt(backoff, "backoff");
    // Not enumerable: a logged or serialised client does not show the key.
    Object.defineProperty(this, "apiKey", { value: apiKey, enumerable: false });
  }

  /** Publish one event to one channel: `{channel, epoch, offset}`. */
  async publish(channel, event, data = null, { idempotencyKey } = {}) {
    const body = this.#publishBody({ channel: channelName(channel) }, event, data, idempotencyKey);
    return this.#call("POST", "/api/publish", body);
  }

  /** The same event to many channels; the key applies on each channel, so a
   * retry publishes only where the first attempt did not. */
  async broadcast(channels, event, data = null, { idempotencyKey } = {}) {
    if (!Array.isArray(channels) || channels.length === 0) {
      throw new RelevoApiError("bad_request", "channels must be a non-empty array");
    }
    const body = this.#publishBody({ channels: channels.map(channelName) }, event, data, idempotencyKey);
    const answer = await this.#call("POST", "/api/broadcast", body);
    return answer.results;
  }

  /** Retained publications: `{epoch, offset, publications}`, after `since` if given. */
  async history(channel, { limit = 100, since } = {}) {
    const query = new URLSearchParams({ limit: String(nonNegativeInt(limit, "limit")) });
    if (since !== undefined) {
      query.set("since_epoch", String(since.epoch ?? ""));
      query.set("since_offset", String(nonNegativeInt(since.offset, "since.offset")));
    }
    return this.#call("GET", `/api/history/${encodeURIComponent(channelName(channel))}?${query}`);
  }

  /** Who is subscribed, across every node: `{clients: {id: {user, info}}}`. */
  async presence(channel) {
    return this.#call("GET", `/api/presence/${encodeURIComponent(channelName(channel))}`);
  }

  /** Close every connection of `user`, on every node (they get `forced`). */
  async disconnect(user) {
    if (typeof user !== "string" || user === "") {
      throw new RelevoApiError("bad_request", "user must be a non-empty string");
    }
    await this.#call("POST", "/api/disconnect", { user });
  }

  #publishBody(target, event, data, key) {
    if (typeof event !== "string" || event === "") {
      throw new RelevoApiError("bad_request", "event must be a non-empty string");
    }
    if (key === undefined && this.retries > 0) key = `sdk:${randomBytes(16).toString("base64url")}`;
    if (key !== undefined && (typeof key !== "string" || key.length < 1 || key.length > MAX_KEY)) {
      throw new RelevoApiError("bad_request", `idempotencyKey must be 1 to ${MAX_KEY} characters`);
    }
    const body = { ...target, event, data: data === undefined ? null : data };
    if (key !== undefined) body.idempotency_key = key;
    return body;
  }

  async #call(method, path, body) {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#once(method, path, payload);
      } catch (err) {
        err.attempts = attempt + 1;
        if (!err.retry || attempt >= this.retries) throw err;
      }
      await new Promise((resolve) => setTimeout(resolve, retryDelay(attempt, this.backoff)));
    }
  }

  async #once(method, path, payload) {
    const headers = { Authorization: `apikey ${this.apiKey}`, Accept: "application/json" };
    if (payload !== undefined) headers["Content-Type"] = "application/json";
    let res;
    let text;
    try {
      res = await fetch(this.url + path, {
        method,
        headers,
        body: payload,
        signal: this.timeout > 0 ? AbortSignal.timeout(this.timeout) : undefined,
      });
      text = await res.text();
    } catch (err) {
      const timedOut = err?.name === "TimeoutError";
      const code = timedOut ? "timeout" : "network";
      const message = timedOut ? `no answer in ${this.timeout} ms` : `no answer: ${err?.cause?.code ?? err?.message ?? err}`;
      throw new RelevoApiError(code, `${method} ${path.split("?")[0]}: ${message}`, { retry: true, cause: err });
    }
    let answer;
    try {
      answer = text === "" ? {} : JSON.parse(text);
    } catch {
      answer = undefined;
    }
    if (res.ok && answer !== undefined) return answer;
    const known = answer !== null && typeof answer === "object" && typeof answer.code === "string";
    const code = known ? answer.code : res.ok ? "internal" : res.status >= 500 ? "unavailable" : "internal";
    const message = known && typeof answer.message === "string" ? answer.message : `HTTP ${res.status}`;
    const retry = res.status >= 500 || (known && answer.retry === true);
    throw new RelevoApiError(code, message, { status: res.status, retry });
  }
}
