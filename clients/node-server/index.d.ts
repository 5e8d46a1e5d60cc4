// Types of @relevo/node-server (hand-written; tests/js/test_node_server.py checks
// every value export is declared, and examples/typed.ts compiles strictly).
// They need no Node types: a KeyObject is accepted by its shape.

/** A publication's place in its channel. */
export interface Position {
  epoch: string;
  offset: number;
}

/** What a publish answers (also each entry of a broadcast's answer). */
export interface Published extends Position {
  channel: string;
}

/** A stored publication, as history returns it. */
export interface Publication<T = unknown> {
  ch: string;
  off: number;
  ev: string;
  data: T;
  ts: number;
}

export interface History<T = unknown> extends Position {
  publications: Array<Publication<T>>;
}

export interface Presence {
  clients: Record<string, { user: string; info: Record<string, unknown> }>;
}

export interface ClientOptions {
  /** The relevo server, `http(s)://host[:port][/prefix]`. */
  url: string;
  /** relevo's `auth.api_key`. Keep it on the server: never send it to a browser. */
  apiKey: string;
  /** Milliseconds one attempt may take (default 5000; 0: no limit). */
  timeout?: number;
  /** Retries after the first attempt (default 3; 0: none, and publish sends no made-up key). */
  retries?: number;
  /** First back-off in ms (default 200), doubling, with jitter, at most 5000. */
  backoff?: number;
}

export interface PublishOptions {
  /** 1–256 characters; a repeat within relevo's window answers the first offset and publishes nothing. */
  idempotencyKey?: string;
}

export interface HistoryOptions {
  /** 0–10000, default 100. */
  limit?: number;
  /** Only publications after this position. */
  since?: Position;
}

/** Codes of the server's error bodies, plus this client's `network` and `timeout`. */
export type ApiErrorCode =
  | "bad_request"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "too_large"
  | "rate_limited"
  | "limit_exceeded"
  | "unavailable"
  | "internal"
  | "network"
  | "timeout"
  | (string & {});

export class RelevoApiError extends Error {
  constructor(
    code: ApiErrorCode,
    message: string,
    options?: { status?: number; retry?: boolean; attempts?: number; cause?: unknown },
  );
  readonly name: "RelevoApiError";
  /** The server's stable code, or `network` / `timeout` when there was no answer. */
  code: ApiErrorCode;
  /** The HTTP status; 0 when there was no answer. */
  status: number;
  /** Whether the same call may succeed later (it was retried if retries were left). */
  retry: boolean;
  /** How many times the call was sent. */
  attempts: number;
}

/** relevo's server HTTP API, authenticated with the API key. */
export class RelevoClient {
  constructor(options: ClientOptions);
  readonly url: string;
  readonly timeout: number;
  readonly retries: number;
  readonly backoff: number;
  publish<T = unknown>(channel: string, event: string, data?: T, options?: PublishOptions): Promise<Published>;
  broadcast<T = unknown>(
    channels: readonly string[],
    event: string,
    data?: T,
    options?: PublishOptions,
  ): Promise<Published[]>;
  history<T = unknown>(channel: string, options?: HistoryOptions): Promise<History<T>>;
  presence(channel: string): Promise<Presence>;
  disconnect(user: string): Promise<void>;
}

/** Milliseconds before retry number `attempt` (0-based): `min(5000, backoff·2^attempt)` × [0.5, 1). */
export function retryDelay(attempt: number, backoff: number): number;

/** A Node `KeyObject` (or anything with its shape). */
export interface PrivateKeyObject {
  readonly type: string;
  readonly asymmetricKeyType?: string | undefined;
}

export interface TokenClaims {
  /** The `sub` claim: 1–255 characters. */
  user: string;
  roles?: readonly string[];
  tenant?: string;
  /** Seconds until `exp` (default 600, at most 86400). */
  ttl?: number;
  /** More claims (for namespace patterns like `{client_code}`); not sub, roles, tenant, exp, iat, nbf, aud, iss. */
  claims?: Record<string, string | number | boolean | null>;
  audience?: string;
  issuer?: string;
  /** Seconds since the epoch to mint at (default: now). */
  now?: number;
}

export type SigningKey =
  | { algorithm?: "HS256"; secret: string; privateKey?: undefined; keyId?: string }
  | { algorithm?: "RS256"; privateKey: string | PrivateKeyObject; secret?: undefined; keyId?: string };

/** A signed JWT relevo accepts: HS256 with its `auth.secret`, RS256 with the private half of its `auth.public_key`. */
export function mintToken(claims: TokenClaims, key: SigningKey): string;

export const RESERVED_CLAIMS: readonly string[];
export const MIN_SECRET_LENGTH: number;
