// The phone's outbox of ticks: a tick is kept in localStorage until the
// server has it, and sent again (with backoff) while the network or the
// server is away. Never lost silently: a tick the server refuses for good
// (the dispatcher closed the row, the row is gone) is reported to the page.
//
// Only the last wish per row is kept: the API sets a check to a value
// (idempotent), so "V on, V off, V on" offline sends one request.

const MAX_DELAY = 15000;

export class TickOutbox {
  /**
   * key:        localStorage key (one per user)
   * send(id, value) → Promise<row>; throws an error with .retry (worth
   *             sending again later) or .code === "unauthorized"
   * refresh()   → Promise<bool>: get a fresh token (after "unauthorized")
   * on:         {sent(id, row), failed(id, err, value), state()}
   */
  constructor(key, send, { refresh, on = {} } = {}) {
    Object.assign(this, { key, send, refresh, on });
    this.pending = new Map(); // id → {value, seq, at}
    this.seq = 0;
    this.running = false;
    this.again = false;
    this.failures = 0;
    this.failing = false; // the last attempt failed and will be retried
    this.authExpired = false;
    this.timer = null;
    try {
      for (const [id, e] of Object.entries(JSON.parse(localStorage.getItem(key) || "{}"))) {
        this.pending.set(id, { value: Boolean(e.value), seq: ++this.seq, at: e.at || Date.now() });
      }
    } catch (_) {
      // a corrupt entry: start empty
    }
    addEventListener("online", () => this.flush());
  }

  get size() {
    return this.pending.size;
  }

  has(id) {
    return this.pending.has(String(id));
  }

  /** The value the user asked for, if not yet acknowledged. */
  wish(id) {
    return this.pending.get(String(id))?.value;
  }

  set(id, value) {
    this.pending.set(String(id), { value, seq: ++this.seq, at: Date.now() });
    this.persist();
    this.flush();
  }

  persist() {
    const obj = {};
    for (const [id, e] of this.pending) obj[id] = { value: e.value, at: e.at };
    if (this.pending.size) localStorage.setItem(this.key, JSON.stringify(obj));
    else localStorage.removeItem(this.key);
    this.notify();
  }

  notify() {
    if (this.on.state) this.on.state();
  }

  /** Send everything pending, one at a time; on a retryable failure stop and
   * try again later (or at once when the browser is back online). */
  async flush() {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    clearTimeout(this.timer);
    try {
      do {
        this.again = false;
        for (const [id, entry] of [...this.pending]) {
          const outcome = await this.sendOne(id, entry);
          if (outcome === "later") return this.later();
        }
      } while (this.again);
      this.failures = 0;
      this.failing = false;
      this.notify();
    } finally {
      this.running = false;
    }
  }

  async sendOne(id, entry) {
    let row;
    try {
      row = await this.send(id, entry.value);
    } catch (err) {
      if (err.code === "unauthorized" || err.code === "token_expired") {
        const ok = this.refresh ? await this.refresh().catch(() => false) : false;
        this.authExpired = !ok;
        return "later";
      }
      if (err.retry) return "later";
      this.settle(id, entry);
      if (this.on.failed) this.on.failed(id, err, entry.value);
      return "done";
    }
    this.authExpired = false;
    this.failing = false;
    this.settle(id, entry);
    if (this.on.sent) this.on.sent(id, row);
    return "done";
  }

  settle(id, entry) {
    // A newer tap on the same row while this one was in flight stays pending.
    if (this.pending.get(id)?.seq === entry.seq) this.pending.delete(id);
    this.persist();
  }

  later() {
    this.failing = true;
    this.failures += 1;
    const cap = Math.min(MAX_DELAY, 1000 * 2 ** Math.min(this.failures - 1, 4));
    const delay = cap / 2 + Math.random() * (cap / 2);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), this.authExpired ? MAX_DELAY : delay);
    this.notify();
  }
}
