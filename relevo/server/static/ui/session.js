// relevo UI kit — sessions and API calls, for every app's pages and /admin:
//
//   import { api, ApiError, errorText, sessionStore, tokenSource } from "/static/ui/session.js";
//
// Three ways a page gets its token (docs/auth.md):
//   1. relevo's own sign-in: an HttpOnly session cookie, and short tokens from
//      GET /auth/token (`sessionToken`), fetched again before they expire;
//   2. the deployment's `token_url` (its backend answers {"token"} for the
//      browser's session there);
//   3. the fragment, from a page of the deployment's own.
// A page is handed its token in the URL fragment (`#token=…`): a browser never
// sends the fragment, so the token stays out of access logs, Referer headers
// and proxies, and it leaves the address bar (and the tab's history) at once.
// A session is kept per tab (sessionStorage) or per device (localStorage, for
// a phone that kills its tabs), under a key of the app's choosing.

/** Claims of a JWT (unverified: the server checks it on every call). */
export function claims(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (_) {
    return null;
  }
}

/** Whether `s` has the shape of a JWT (three base64url parts). */
export const looksLikeJwt = (s) => /^[\w-]+\.[\w-]+\.[\w-]*$/.test(s || "");

/** What a page knows of its user from a token: {token, user, name, roles,
 * tenant, exp}; null when the token cannot be read. */
export function sessionOf(token) {
  const c = claims(token);
  if (!c || !c.sub) return null;
  const roles = Array.isArray(c.roles) ? c.roles : c.roles ? [c.roles] : [];
  return { token, user: String(c.sub), name: c.name || String(c.sub), roles, tenant: c.tenant || "", exp: c.exp || null, sid: c.sid || null };
}

/** The token handed to this page as `#token=…`, taken out of the address bar
 * (replaced, not pushed: gone from history too); null when there is none. A
 * `?token=` is removed unused: the query has already gone to the server by
 * the time the page runs — hand tokens in the fragment. */
export function takeToken() {
  const url = new URL(location.href);
  const hash = new URLSearchParams(url.hash.slice(1));
  const given = hash.get("token");
  if (!given && !url.searchParams.has("token")) return null;
  hash.delete("token");
  url.searchParams.delete("token");
  url.hash = hash.toString();
  history.replaceState(null, "", url);
  return given;
}

/**
 * A session kept under `key`:
 *   load()         the session: a token handed in the fragment (saved), else the
 *                  stored one; null when there is none, it expired or `valid` refuses it
 *   save(token, extra)  store a token (and fields of the page's own, kept while
 *                  the user stays the same); throws on a token that cannot be read
 *   clear()        forget it
 *   require(roles, login)  the session, if it has one of `roles`; otherwise off to
 *                  `login?next=<this page>` (no session) or `login?denied=<this page>&rol=…`
 */
export function sessionStore(key, { storage = sessionStorage, valid = () => true } = {}) {
  const read = () => {
    try {
      return JSON.parse(storage.getItem(key) || "null");
    } catch (_) {
      return null;
    }
  };
  const store = {
    key,
    load() {
      const given = takeToken();
      if (given) {
        try {
          store.save(given);
        } catch (_) {
          // an unreadable token: keep the stored session
        }
      }
      const s = read();
      if (!s || !s.token || !valid(s)) return null;
      if (s.exp && s.exp * 1000 < Date.now()) return null;
      return s;
    },
    save(token, extra = {}) {
      const fresh = sessionOf(token);
      if (!fresh) throw new Error("token inválido");
      const old = read();
      const session = { ...(old && old.user === fresh.user ? old : {}), ...fresh, ...extra };
      storage.setItem(key, JSON.stringify(session));
      return session;
    },
    clear() {
      storage.removeItem(key);
    },
    require(roles, login) {
      const s = store.load();
      const here = encodeURIComponent(location.pathname);
      if (!s) {
        location.replace(`${login}?next=${here}`);
        return null;
      }
      if (!s.roles.some((r) => roles.includes(r))) {
        location.replace(`${login}?rol=${encodeURIComponent(s.roles.join(","))}&denied=${here}`);
        return null;
      }
      return s;
    },
  };
  return store;
}

/** An error of the API: `status` (0: no answer), `code` (relevo's stable codes,
 * or "network" / "timeout"), `body` (the error body), `mensaje` (the server's
 * Spanish sentence, "" when it sent none) and `retry` (worth sending again later). */
export class ApiError extends Error {
  constructor(status, body = {}, fallback = "") {
    super(body.message || fallback || `HTTP ${status}`);
    this.status = status;
    this.code = body.code || `http_${status}`;
    this.body = body;
    this.mensaje = body.mensaje || "";
    this.retry = status === 0 || status >= 500 || status === 429 || Boolean(body.retry);
  }
}

// What a screen says for an error the server sent no `mensaje` for.
const TEXT = {
  network: "Sin conexión con el servidor.",
  timeout: "El servidor tardó demasiado en responder.",
  unauthorized: "Tu sesión venció. Vuelve a entrar.",
  token_expired: "Tu sesión venció. Vuelve a entrar.",
  forbidden: "Tu usuario no puede hacer esto.",
  rate_limited: "Demasiadas acciones seguidas; espera un momento.",
  unavailable: "El servidor no está disponible. Inténtalo de nuevo en unos segundos.",
};

/** A Spanish sentence for an error: the server's `mensaje`, else the app's
 * text for its code (`texts`), else the kit's, else the English message. */
export function errorText(err, texts = {}) {
  if (err?.mensaje) return err.mensaje;
  return texts[err?.code] || TEXT[err?.code] || (err?.message ? `Error: ${err.message}` : "Error inesperado.");
}

/**
 * Call a JSON API route: `body` goes as JSON (`raw` as is, with `contentType`),
 * `token` as `Authorization: Bearer` (`apiKey` as `apikey`), at most `timeout` ms
 * (0: no limit). Resolves with the answer's JSON; throws ApiError.
 */
export async function api(path, { method = "GET", body, raw, contentType, token, apiKey, timeout = 0 } = {}) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  else if (apiKey) headers.Authorization = `apikey ${apiKey}`;
  let payload;
  if (raw !== undefined) {
    payload = raw;
    headers["Content-Type"] = contentType || "application/octet-stream";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["Content-Type"] = "application/json";
  }
  const ctrl = timeout ? new AbortController() : null;
  const timer = ctrl && setTimeout(() => ctrl.abort(), timeout);
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload, cache: "no-store", signal: ctrl?.signal });
  } catch (err) {
    const code = ctrl?.signal.aborted ? "timeout" : "network";
    throw new ApiError(0, { code, message: err.message || code });
  } finally {
    if (timer) clearTimeout(timer);
  }
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, data || {}, res.statusText);
  return data ?? {};
}

/** `api()`, tried again with backoff while the server is down or unreachable. */
export async function apiRetry(path, opts = {}, { tries = Infinity, onRetry } = {}) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await api(path, opts);
    } catch (err) {
      const transient = ["network", "timeout", "unavailable", "internal"].includes(err.code) || err.status >= 500;
      if (!transient || attempt >= tries) throw err;
      if (onRetry) onRetry(err, attempt);
      await new Promise((r) => setTimeout(r, Math.min(8000, 250 * 2 ** attempt) * (0.5 + Math.random() / 2)));
    }
  }
}

/** The token a deployment's backend hands the signed-in user: GET `url` with
 * the browser's cookies, answering {"token": …}. */
export async function fetchToken(url) {
  const res = await fetch(url, { credentials: "include", cache: "no-store" });
  if (!res.ok) throw new ApiError(res.status, {}, res.statusText);
  return (await res.json()).token;
}

/** A short token for this browser's sign-in session (GET /auth/token, the
 * HttpOnly cookie goes along): {token, expires, user, roles, home}. Throws
 * ApiError: 401 when not signed in, 404 where sign-in is off. */
export function sessionToken(app = "") {
  return api(`/auth/token${app ? `?app=${encodeURIComponent(app)}` : ""}`);
}

/** Sign in with a username and password: {user, home, next, must_change_password};
 * the server sets the session cookie. Throws ApiError (401 for any wrong pair). */
export function signIn(username, password, next = "") {
  return api("/auth/login", { method: "POST", body: { username, password, next } });
}

/** Set a new password for the signed-in person ({current, new}): {ok, home}.
 * Needed after a temporary password (GET /auth/token answers 403 with
 * `password_change_required` until then). Throws ApiError. */
export function changePassword(current, next) {
  return api("/auth/password", { method: "POST", body: { current, new: next } });
}

/** Whether an ApiError says the session holds a temporary password to change first. */
export const mustChangePassword = (err) => Boolean(err?.body?.password_change_required);

/** End this browser's sign-in session, and the live connections opened with it. */
export async function signOut() {
  try {
    await api("/auth/logout", { method: "POST", timeout: 5000 });
  } catch (_) {
    // no sign-in here (404), or already signed out: nothing to end
  }
}

/**
 * Where a fresh token comes from when the one in hand runs out (relevo.js's
 * `getToken`): the app's `token_url` (a deployment's own backend); else, for a
 * session that came from relevo's sign-in (`user` is the session, with a
 * `sid`), the sign-in session (/auth/token); else on a demo server the demo
 * login of `app` for `user`. Each new token goes through `save` (which
 * returns it). Undefined when there is no source.
 */
export function tokenSource(app, config, user, save = (token) => token) {
  if (config.token_url) return async () => save(await fetchToken(config.token_url));
  const s = user && typeof user === "object" ? user : null;
  const id = s ? s.user : user;
  if (s?.sid) return async () => save((await sessionToken(app)).token);
  if (config.demo && id) {
    return async () => {
      try {
        return save((await sessionToken(app)).token);
      } catch (_) {
        return save((await api(`/api/${app}/demo/token`, { method: "POST", body: { user: id } })).token);
      }
    };
  }
  return undefined;
}
