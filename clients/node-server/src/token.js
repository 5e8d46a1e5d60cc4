// mintToken: a relevo JWT for one of the backend's users, signed with
// node:crypto (HS256 with the shared `auth.secret`, or RS256 with the private
// key whose public half is relevo's `auth.public_key`). The claims relevo
// reads: `sub` (the user), `roles`, `tenant`, `exp`, and optional `aud` /
// `iss` when relevo requires them; any other claim can be named in a
// namespace rule's channel pattern (`{claim}`).

import { createHmac, createPrivateKey, createSign } from "node:crypto";

import { RelevoApiError } from "./errors.js";

/** Claims the options own: `claims` may not set them. */
export const RESERVED_CLAIMS = Object.freeze(["sub", "roles", "tenant", "exp", "iat", "nbf", "aud", "iss"]);
/** relevo refuses a shorter HS256 secret at start (RFC 7518 §3.2). */
export const MIN_SECRET_LENGTH = 32;
const MAX_SUBJECT = 255;

function invalid(message) {
  return new RelevoApiError("bad_request", message);
}

function b64url(value) {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

function rsaKey(privateKey) {
  let key;
  try {
    key = typeof privateKey === "string" ? createPrivateKey(privateKey) : privateKey;
  } catch (err) {
    throw new RelevoApiError("bad_request", "privateKey is not a PEM private key", { cause: err });
  }
  if (key?.type !== "private" || key.asymmetricKeyType !== "rsa") {
    throw invalid("RS256 needs an RSA private key");
  }
  return key;
}

/**
 * A signed token for `user`. `ttl` seconds (default 600) from now, never
 * more than a day: a token cannot be taken back, so it must expire soon and
 * be minted again (the browser client asks for a fresh one with `getToken`).
 */
export function mintToken(
  { user, roles = [], tenant, ttl = 600, claims = {}, audience, issuer, now } = {},
  { secret, privateKey, algorithm = privateKey === undefined ? "HS256" : "RS256", keyId } = {},
) {
  if (typeof user !== "string" || user.length < 1 || user.length > MAX_SUBJECT) {
    throw invalid(`user must be a string of 1 to ${MAX_SUBJECT} characters`);
  }
  if (!Array.isArray(roles) || !roles.every((r) => typeof r === "string" && r !== "")) {
    throw invalid("roles must be an array of non-empty strings");
  }
  if (tenant !== undefined && typeof tenant !== "string") throw invalid("tenant must be a string");
  if (!Number.isFinite(ttl) || ttl <= 0 || ttl > 86400) throw invalid("ttl must be 1 to 86400 seconds");
  if (claims === null || typeof claims !== "object" || Array.isArray(claims)) {
    throw invalid("claims must be an object");
  }
  const clash = RESERVED_CLAIMS.filter((name) => Object.hasOwn(claims, name));
  if (clash.length) throw invalid(`claims may not set ${clash.join(", ")} (use the options)`);

  const issued = Math.floor(now ?? Date.now() / 1000);
  const payload = { ...claims, sub: user, roles: [...new Set(roles)], iat: issued, exp: issued + Math.max(1, Math.floor(ttl)) };
  if (tenant) payload.tenant = tenant;
  if (audience !== undefined) payload.aud = audience;
  if (issuer !== undefined) payload.iss = issuer;

  const header = { alg: algorithm, typ: "JWT" };
  if (keyId !== undefined) header.kid = keyId;
  const input = `${b64url(header)}.${b64url(payload)}`;
  if (algorithm === "HS256") {
    if (typeof secret !== "string" || secret.length < MIN_SECRET_LENGTH) {
      throw invalid(`HS256 needs a secret of at least ${MIN_SECRET_LENGTH} characters`);
    }
    return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
  }
  if (algorithm === "RS256") {
    const key = rsaKey(privateKey);
    return `${input}.${createSign("RSA-SHA256").update(input).sign(key, "base64url")}`;
  }
  throw invalid(`algorithm must be HS256 or RS256, not ${algorithm}`);
}
