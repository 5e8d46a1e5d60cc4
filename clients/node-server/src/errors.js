// The one error this package throws for a call that failed.

/**
 * A call to relevo's server API failed. `code` is the server's stable code
 * (`bad_request`, `unauthorized`, `not_found`, `too_large`, `rate_limited`,
 * `unavailable`, `internal`, …) or this client's own: `network` (no answer:
 * refused, reset, dropped) or `timeout` (no answer in time). `status` is the
 * HTTP status (0 without an answer); `retry` says whether the same call may
 * succeed later; `attempts` how many times it was sent.
 */
export class RelevoApiError extends Error {
  constructor(code, message, { status = 0, retry = false, attempts = 1, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "RelevoApiError";
    this.code = code;
    this.status = status;
    this.retry = retry;
    this.attempts = attempts;
  }
}
