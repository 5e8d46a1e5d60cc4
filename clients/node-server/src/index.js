// @relevo/node-server: relevo's server API for Node backends.
export { RelevoClient, retryDelay } from "./client.js";
export { RelevoApiError } from "./errors.js";
export { MIN_SECRET_LENGTH, RESERVED_CLAIMS, mintToken } from "./token.js";
