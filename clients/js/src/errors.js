/** Errors: one class, with the server's stable codes. */

/** The disconnect / error codes that a fresh token may cure. */
export const AUTH_CODES = new Set(["unauthorized", "token_expired"]);

/** An error with a stable `code` (the server's codes, plus "timeout",
 * "disconnected", "network", "closed") and whether retrying may help. */
export class RelevoError extends Error {
  constructor(code, message, { retry = false, status = 0, extra = null } = {}) {
    super(message || code);
    Object.assign(this, { name: "RelevoError", code, retry, status, extra });
  }
}

/** A RelevoError from the server's error object ({code, message, retry, ...extra}). */
export function toError(err, status = 0) {
  const { code = "internal", message = "", retry = false, ...extra } = err || {};
  return new RelevoError(code, message, { retry, status, extra });
}
