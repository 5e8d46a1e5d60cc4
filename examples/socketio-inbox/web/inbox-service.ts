// The CRM front end's real-time service on relevo: what WebSocketService and
// WhatsAppRealtimeService (seed 002) did over Socket.IO, typed, and with
// recovery: after a cut, a reload of the page or a night asleep it resumes
// the company's channel from the last event it handled (kept in a
// PositionStore: localStorage in a browser), and every missed event arrives,
// in order, once. If relevo cannot close the gap (history expired) it says
// so and the service calls `onReload` to fetch the snapshot again.
//
// Framework-free: an Angular service wraps it (`on()` → a Subject), a React
// hook too. Compiled by `npm run build` (tsc) to dist/.

import {
  connect,
  type Client,
  type ConnectOptions,
  type ConnectionState,
  type Publication,
  type RelevoError,
  type StreamPosition,
  type Subscription,
} from "@relevo/client";

export interface Message {
  id: number;
  /** The customer's number (for an outgoing message, the one it went to). */
  from: string;
  body: string;
  direction: "in" | "out";
  at: string;
}

/** Every event the backend publishes on a company's channel, by name. */
export interface InboxEvents {
  "message:new": { clientCode: string; message: Message; conversation: { id: string; unread: number } };
  "whatsapp:qr": { clientCode: string; qr: string };
  "whatsapp:authenticated": { clientCode: string; phone: string };
  "whatsapp:disconnected": { clientCode: string; reason: string };
  "bulk:progress": { clientCode: string; jobId: string; sent: number; failed: number; total: number; done: boolean };
}
export type InboxEventName = keyof InboxEvents;
/** One event as handlers get it: the name narrows `data`. */
export type InboxEvent = {
  [K in InboxEventName]: { name: K; data: InboxEvents[K]; offset: number; ts: number | undefined };
}[InboxEventName];
export type EventOf<K extends InboxEventName> = Extract<InboxEvent, { name: K }>;

const EVENT_NAMES: ReadonlySet<string> = new Set<InboxEventName>([
  "message:new",
  "whatsapp:qr",
  "whatsapp:authenticated",
  "whatsapp:disconnected",
  "bulk:progress",
]);
const isInboxEvent = (name: string): name is InboxEventName => EVENT_NAMES.has(name);

/** Where the service keeps its place in the channel between page loads. */
export interface PositionStore {
  load(key: string): StreamPosition | undefined;
  save(key: string, position: StreamPosition): void;
}

/** A store in memory (tests, Node). */
export function memoryStore(): PositionStore {
  const saved = new Map<string, StreamPosition>();
  return { load: (key) => saved.get(key), save: (key, position) => void saved.set(key, position) };
}

/** A store in `localStorage` (or anything with its two methods). */
export function storageStore(storage: {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}): PositionStore {
  return {
    load(key) {
      try {
        const value: unknown = JSON.parse(storage.getItem(`relevo:${key}`) ?? "null");
        const pos = value as Partial<StreamPosition> | null;
        return pos && typeof pos.epoch === "string" && typeof pos.offset === "number"
          ? { epoch: pos.epoch, offset: pos.offset }
          : undefined;
      } catch {
        return undefined;
      }
    },
    save: (key, position) => storage.setItem(`relevo:${key}`, JSON.stringify(position)),
  };
}

/** What GET /api/relevo-token of the backend answers. */
interface TokenGrant {
  token: string;
  url: string;
  channel: string;
  expiresIn: number;
}

export interface InboxServiceOptions {
  /** The CRM backend's base URL ("" on the same origin). */
  backend: string;
  /** The CRM's own session (what Socket.IO's `auth.token` carried). */
  session: string;
  store?: PositionStore;
  /** relevo could not close a gap: reload conversations from the backend. */
  onReload?: () => void;
  /** The server refused the channel (a wrong tenant, a role taken away). */
  onError?: (err: RelevoError) => void;
  /** Passed on to relevo's client (backoff, timeouts, transports). */
  connectOptions?: Omit<ConnectOptions, "token" | "getToken">;
}

type Handler = (event: InboxEvent) => void;

export class InboxService {
  readonly #options: InboxServiceOptions;
  readonly #store: PositionStore;
  readonly #handlers = new Set<Handler>();
  #client: Client | null = null;
  #subscription: Subscription<unknown> | null = null;
  #channel = "";

  constructor(options: InboxServiceOptions) {
    this.#options = options;
    this.#store = options.store ?? memoryStore();
  }

  /** relevo's connection state, for a "Conectado / Reconectando…" badge. */
  get state(): ConnectionState {
    return this.#client?.state ?? "disconnected";
  }

  get channel(): string {
    return this.#channel;
  }

  /** The last event handled, or null before the first one. */
  get position(): StreamPosition | null {
    return this.#subscription?.position ?? null;
  }

  /** Handle one event by name; returns a function that stops handling it. */
  on<K extends InboxEventName>(name: K, handler: (data: InboxEvents[K], event: EventOf<K>) => void): () => void {
    return this.onAny((event) => {
      if (event.name === name) handler(event.data as InboxEvents[K], event as EventOf<K>);
    });
  }

  /** Every event, in the channel's order. */
  onAny(handler: Handler): () => void {
    this.#handlers.add(handler);
    return () => void this.#handlers.delete(handler);
  }

  /** Connect and subscribe to the company's channel, from where this store left off. */
  async start(): Promise<void> {
    if (this.#client) throw new Error("InboxService: already started");
    let grant: TokenGrant | null = await this.#grant();
    this.#channel = grant.channel;
    const client = connect(grant.url, {
      ...this.#options.connectOptions,
      // The first token is the one just fetched; later ones (refresh, reconnect) are fresh.
      getToken: async () => {
        const first = grant;
        grant = null;
        return (first ?? (await this.#grant())).token;
      },
    });
    this.#client = client;
    const since = this.#store.load(this.#key);
    this.#subscription = client.subscribe<unknown>(this.#channel, (pub) => this.#dispatch(pub), {
      ...(since ? { since } : {}),
      onReset: (position) => {
        this.#store.save(this.#key, position);
        this.#options.onReload?.();
      },
      ...(this.#options.onError ? { onError: this.#options.onError } : {}),
    });
    await this.#subscription.ready;
  }

  /** Disconnect for good (the store keeps the position for the next start). */
  stop(): void {
    this.#client?.close();
    this.#client = null;
    this.#subscription = null;
  }

  get #key(): string {
    return this.#channel;
  }

  #dispatch(pub: Publication<unknown>): void {
    if (isInboxEvent(pub.ev)) {
      const event = { name: pub.ev, data: pub.data, offset: pub.off, ts: pub.ts } as InboxEvent;
      for (const handler of this.#handlers) {
        try {
          handler(event);
        } catch (err) {
          console.error(`inbox handler for ${pub.ev}:`, err);
        }
      }
    }
    // The client has moved its position to this publication before calling us.
    const position = this.#subscription?.position;
    if (position) this.#store.save(this.#key, position);
  }

  async #grant(): Promise<TokenGrant> {
    const res = await fetch(`${this.#options.backend}/api/relevo-token`, {
      headers: { Authorization: `Bearer ${this.#options.session}` },
    });
    if (!res.ok) throw new Error(`relevo token: HTTP ${res.status}`);
    return (await res.json()) as TokenGrant;
  }
}
