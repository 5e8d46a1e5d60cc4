/** HTTP requests (SSE streams, commands over HTTP, live-query snapshots). */

import { RelevoError, toError } from "./errors.js";

/** fetch() with a timeout on the response headers and errors as RelevoError. */
export async function request(url, init, timeout, ctrl = new AbortController()) {
  const timer = setTimeout(() => ctrl.abort(), timeout);
  let res;
  try {
    res = await fetch(url, { cache: "no-store", ...init, signal: ctrl.signal });
  } catch (err) {
    const code = ctrl.signal.aborted ? "timeout" : "network";
    throw new RelevoError(code, `${code}: ${err.message}`, { retry: true });
  } finally {
    clearTimeout(timer);
  }
  if (res.ok) return res;
  const body = await res.json().catch(() => ({}));
  const retry = body.retry || res.status >= 500 || res.status === 429;
  const code = body.code || `http_${res.status}`;
  throw toError({ ...body, code, message: body.message || res.statusText, retry }, res.status);
}
