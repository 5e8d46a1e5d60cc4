/** Small helpers shared by the client's parts. */

/** Call a user's callback; one that throws is logged, never breaks the client. */
export function safeCall(fn, ...args) {
  if (typeof fn !== "function") return;
  try {
    fn(...args);
  } catch (err) {
    console.error("relevo: a callback threw", err);
  }
}

/** A promise whose resolve/reject become `owner._resolve` / `owner._reject`. */
export function deferred(owner) {
  const promise = new Promise((resolve, reject) => Object.assign(owner, { _resolve: resolve, _reject: reject }));
  promise.catch(() => {}); // onError reports failures; awaiting `ready` is optional
  return promise;
}
