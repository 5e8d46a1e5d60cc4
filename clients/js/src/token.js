/** Tokens: what the client reads from a JWT, and how it sends one over HTTP. */

/** The claims of a JWT, unverified (the server verifies): for `exp` and `sub`. */
export function jwtClaims(token) {
  try {
    return JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))) || {};
  } catch (_) {
    return {};
  }
}

export function jwtExpiry(token) {
  const { exp } = jwtClaims(token || "");
  return typeof exp === "number" ? exp : null;
}

export const authHeaders = (token, extra = {}) => (token ? { ...extra, Authorization: `Bearer ${token}` } : extra);
