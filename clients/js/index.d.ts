// Types of @relevo/client (the modules in src/, served by relevo as /relevo.js).
// Hand-written; tests/js/test_types.py fails when a value exported by
// src/index.js has no declaration here, or one declared here is not exported.
// Guide: docs/client-js.md. Wire protocol: docs/protocol.md.

/** The package's version. */
export const VERSION: string;

// -- errors -------------------------------------------------------------------------

/** The server's stable error and disconnect codes, plus the client's own
 * (`timeout`, `disconnected`, `network`, `closed`, `token_error`, `http_<status>`). */
export type ErrorCode =
  | "bad_request"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "too_large"
  | "rate_limited"
  | "limit_exceeded"
  | "slow_consumer"
  | "token_expired"
  | "unavailable"
  | "internal"
  | "conflict"
  | "locked"
  | "timeout"
  | "disconnected"
  | "network"
  | "closed"
  | (string & {});

/** An error with a stable `code` and whether retrying may help. */
export class RelevoError extends Error {
  constructor(
    code: ErrorCode,
    message?: string,
    options?: { retry?: boolean; status?: number; extra?: Record<string, unknown> | null },
  );
  readonly name: "RelevoError";
  /** A stable code: branch on this, not on the message. */
  code: ErrorCode;
  /** Whether the same request may succeed later. */
  retry: boolean;
  /** The HTTP status when the error came from an HTTP answer, else 0. */
  status: number;
  /** The error's other fields (e.g. `channel`), or null. */
  extra: Record<string, unknown> | null;
}

// -- connecting ---------------------------------------------------------------------

export type TransportKind = "websocket" | "sse";

export interface ConnectOptions {
  /** A JWT, sent in the first frame (never in the URL). */
  token?: string;
  /** Called when a token is needed, near its expiry and after `token_expired`; enables in-band refresh. */
  getToken?: () => string | null | undefined | Promise<string | null | undefined>;
  /** No token: the server asks the app's backend (its connect proxy, docs/proxies.md)
   * with the page's cookies; after `token_expired` it asks again. Default false. */
  proxy?: boolean;
  /** In order of preference. Default `["websocket", "sse"]`. */
  transports?: TransportKind[];
  /** Reconnect backoff floor, ms. Default 250. */
  minDelay?: number;
  /** Reconnect backoff cap, ms. Default 10000. */
  maxDelay?: number;
  /** Ms a request waits for its reply (and for a connection). Default 10000. */
  timeout?: number;
  /** Ms of silence before the client pings. Default 25000. */
  pingInterval?: number;
  /** Ms a ping may wait for any frame before the socket counts as dead. Default 10000. */
  pongTimeout?: number;
  /** Failed opens of a never-working transport before trying the next one. Default 2. */
  fallbackAfter?: number;
  /** Failed attempts before `connecting` turns into `disconnected`. Default 3. */
  offlineAfter?: number;
}

/** The options a client runs with: the defaults with the caller's on top. */
export type ResolvedOptions = Required<Omit<ConnectOptions, "token" | "getToken">> &
  Pick<ConnectOptions, "token" | "getToken">;

export type ConnectionState = "connecting" | "connected" | "disconnected";

export interface ConnectionStatus {
  state: ConnectionState;
  /** Why the state changed last: a disconnect code, `network`, `closed`, … ("" when connected). */
  reason: string;
  message: string;
  transport: TransportKind | null;
  /** Reconnect attempts since the last connection. */
  attempt: number;
  /** Ms until the next attempt. */
  retryIn: number;
  everConnected: boolean;
}

/** The server's answer to `connect`. */
export interface ConnectionInfo {
  client: string | null;
  user: string;
  expires?: number | null;
}

/** The server's disconnect frame. */
export interface DisconnectFrame {
  op: "disconnect";
  code: ErrorCode;
  reconnect: boolean;
  message?: string;
}

export interface ClientEvents {
  state: (state: ConnectionState, status: ConnectionStatus) => void;
  /** An error frame that no request was waiting for. */
  error: (err: RelevoError) => void;
  /** The server's disconnect frame, before the socket closes. */
  disconnect: (frame: DisconnectFrame) => void;
}

/** The server's address: a string, or a `URL`. */
export type ServerUrl = string | { readonly href: string };

/** Open a client. `url` defaults to the page's origin (http(s):// or ws(s)://); in Node it is required. */
export function connect(url?: ServerUrl | null, options?: ConnectOptions): Client;
export function connect(options: ConnectOptions): Client;

/** Delay before reconnect attempt `attempt` (>= 1): uniform in [min, min(max, min·2^attempt)]. */
export function backoffDelay(attempt: number, min?: number, max?: number, random?: () => number): number;

// -- channels -----------------------------------------------------------------------

/** A position in a channel's stream. */
export interface StreamPosition {
  epoch: string;
  offset: number;
}

/** A publication, as delivered to a subscription. */
export interface Publication<T = unknown> {
  ch: string;
  off: number;
  ev: string;
  data: T;
  ts?: number;
}

/** A `$join` / `$leave` push. */
export interface PresencePush {
  ch: string;
  ev: "$join" | "$leave" | (string & {});
  data: { user: string; client?: string };
}

/** The server's answer to a (re)subscribe. */
export interface SubscribeResult extends StreamPosition {
  ch?: string;
  recovered?: boolean;
  missed?: Publication[];
}

export interface SubscribeOptions {
  /** The gap after a reconnect was closed from history. */
  onRecovered?: (info: { missed: number; epoch: string; offset: number }) => void;
  /** It could not be (`recovered: false`): reload your data. */
  onReset?: (position: StreamPosition) => void;
  /** The server refused the subscription (or dropped it), or a retryable error. */
  onError?: (err: RelevoError) => void;
  /** `$join` / `$leave` pushes. */
  onPresence?: (push: PresencePush) => void;
  /** Every (re)subscribe. */
  onSubscribed?: (result: SubscribeResult) => void;
  /** Resume from a stored position. */
  since?: StreamPosition;
}

export type SubscriptionState = "subscribing" | "live" | "failed" | "closed";

/** One handle on a channel, from `subscribe()`. */
export interface Subscription<T = unknown> {
  readonly client: Client;
  readonly channel: string;
  readonly state: SubscriptionState;
  /** Resolves once live; rejects with a RelevoError if the server refuses. */
  readonly ready: Promise<Subscription<T>>;
  /** The last publication's position on this channel, or null. */
  readonly position: StreamPosition | null;
  unsubscribe(): void;
}

export interface HistoryOptions {
  since?: StreamPosition;
  limit?: number;
}

export interface HistoryResult<T = unknown> extends StreamPosition {
  publications: Publication<T>[];
}

export interface PresenceResult {
  clients: Record<string, { user: string; info?: Record<string, unknown> }>;
}

// -- live collections ---------------------------------------------------------------

/** A record as a live query returns it (its other fields are the kind's). */
export interface LiveRow {
  id: string | number;
  version?: number;
  created_at?: string;
}

/** The delta a records channel carries. */
export interface RecordDelta<R extends LiveRow = LiveRow> {
  kind: string;
  id: R["id"];
  op: "upsert" | "delete" | (string & {});
  version?: number;
  record?: R;
  [field: string]: unknown;
}

export type LiveChange<R extends LiveRow = LiveRow> =
  | { type: "snapshot" }
  | {
      type: "insert" | "update";
      id: R["id"];
      row: R;
      previous: R | undefined;
      delta: RecordDelta<R>;
      pub: Publication<RecordDelta<R>>;
    }
  | {
      type: "remove";
      id: R["id"];
      row: R;
      /** True when the record left the filter, false when it was deleted. */
      left: boolean;
      delta: RecordDelta<R>;
      pub: Publication<RecordDelta<R>>;
    };

export type LiveFilter = Record<string, string | number | boolean | Array<string | number | boolean>>;

export interface LiveOptions<R extends LiveRow = LiveRow> {
  onChange?: (rows: Map<R["id"], R>, change: LiveChange<R>) => void;
  onError?: (err: RelevoError) => void;
  /** Rows in the snapshot (the server's default is its `query_limit`). */
  limit?: number;
  /** Past the limit, load the newest created (`true` / `"created"`) or updated rows. */
  newest?: boolean | "created" | "updated";
}

/** The rows of a records query, kept current by its channel's deltas. */
export interface LiveCollection<R extends LiveRow = LiveRow> {
  readonly client: Client;
  readonly kind: string;
  /** The filter, each field's values as strings. */
  readonly filter: Record<string, string[]>;
  /** Rows by id, updated in place. */
  readonly rows: Map<R["id"], R>;
  /** The records channel (known once the first snapshot loaded). */
  readonly channel: string | null;
  readonly position: StreamPosition | null;
  /** How many records match, also past the limit; null if the server could not count. */
  readonly total?: number | null;
  /** Resolves once the first snapshot loaded; rejects on a final error. */
  readonly ready: Promise<LiveCollection<R>>;
  close(): void;
}

// -- the client ---------------------------------------------------------------------

/** One logical connection; it outlives any number of sockets. */
export class Client {
  constructor(url?: ServerUrl | null, options?: ConnectOptions);
  readonly options: ResolvedOptions;
  /** The server's HTTP base (`http(s)://host[/prefix]`). */
  readonly httpBase: string;
  readonly wsUrl: string;
  readonly state: ConnectionState;
  readonly reason: string;
  /** The current connection's {client, user, expires}, or null. */
  readonly info: ConnectionInfo | null;
  readonly everConnected: boolean;
  readonly status: ConnectionStatus;

  /** Listen to an event; returns a function that stops listening. */
  on<E extends keyof ClientEvents>(name: E, fn: ClientEvents[E]): () => void;
  off<E extends keyof ClientEvents>(name: E, fn: ClientEvents[E]): void;

  /** Subscribe to a channel. Subscriptions to one channel share one server subscription. */
  subscribe<T = unknown>(
    channel: string,
    handler: (pub: Publication<T>) => void,
    options?: SubscribeOptions,
  ): Subscription<T>;
  /** Publish (where the namespace allows client publish). */
  publish(channel: string, event: string, data?: unknown): Promise<StreamPosition>;
  /** Retained publications. */
  history<T = unknown>(channel: string, options?: HistoryOptions): Promise<HistoryResult<T>>;
  /** Who is subscribed. */
  presence(channel: string): Promise<PresenceResult>;
  /** A live view of the records of `kind` matching `filter`. */
  live<R extends LiveRow = LiveRow>(kind: string, filter?: LiveFilter, options?: LiveOptions<R>): LiveCollection<R>;
  /** Connect now: after a terminal disconnect, or to skip the backoff wait. */
  reconnect(): void;
  /** Stop for good. */
  close(): void;
}

// -- helpers for pages (browser only) -----------------------------------------------

export interface PollHandle {
  /** Run now (unless a run is under way). */
  now(): Promise<void>;
  stop(): void;
}

/** Call `fn` every `intervalMs` while the tab is visible, never overlapping itself. */
export function poll(fn: () => unknown, intervalMs: number, options?: { immediate?: boolean }): PollHandle;

export interface IndicatorLabels {
  connected: string;
  connecting: string;
  disconnected: string;
  /** Connecting, never connected yet. */
  first: string;
}

/** The Spanish labels of the indicator. */
export const LABELS: IndicatorLabels;

/** What `indicator()` needs of its element (any HTMLElement has it; no DOM types required). */
export interface IndicatorElement {
  classList: { add(...tokens: string[]): void };
  setAttribute(name: string, value: string): void;
  replaceChildren(...nodes: never[]): void;
  dataset: Record<string, string | undefined>;
  title: string;
}

/** Show `client`'s connection state in `element`; returns a function that stops following. */
export function indicator(element: IndicatorElement, client: Client, options?: { labels?: IndicatorLabels }): () => void;
