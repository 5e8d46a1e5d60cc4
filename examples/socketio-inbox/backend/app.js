// The WhatsApp CRM's backend (seed 002) after the move from Socket.IO to
// relevo. What changed, line for line:
//
//   socket.on('join_client_room', code => socket.join(`client_${code}`))
//     → nothing here: the token this backend mints says which company
//       (`tenant`) the agent belongs to, and relevo's namespace rule
//       `crm:{tenant}` lets it subscribe to that company's channel only.
//   socketIo.to(`client_${clientCode}`).emit('message:new', {...})
//     → relevo.publish(`crm:${clientCode}`, 'message:new', {...})
//   io(url, { auth: { token, clientId, clientCode } })
//     → GET /api/relevo-token: the CRM's own session in, a relevo JWT out.
//
// Everything else (the database, WhatsApp itself) stays as it was; here it is
// kept in memory so the example runs alone. Plain node:http, no framework:
// the routes read like Express's.

import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";

import { RelevoClient, mintToken } from "@relevo/node-server";

/** The channel of a client company: what was the Socket.IO room `client_<code>`. */
export const channelOf = (clientCode) => `crm:${clientCode}`;

const MAX_BODY = 64 * 1024;
const MAX_BULK = 1000;
const TOKEN_TTL = 600; // seconds; the browser client asks for a new one before it runs out

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

const digest = (text) => createHash("sha256").update(String(text)).digest();
const text = (value, name, max = 4096) => {
  if (typeof value !== "string" || value === "" || value.length > max) {
    throw new HttpError(400, `${name}: texto de 1 a ${max} caracteres`);
  }
  return value;
};

async function readJson(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HttpError(413, "cuerpo demasiado grande");
    chunks.push(chunk);
  }
  try {
    const body = JSON.parse(Buffer.concat(chunks).toString() || "{}");
    if (body === null || typeof body !== "object" || Array.isArray(body)) throw new Error();
    return body;
  } catch {
    throw new HttpError(400, "se esperaba un objeto JSON");
  }
}

/**
 * The CRM: its services (what called `socketIo.emit` before) and its HTTP handler.
 * @param {{relevoUrl: string, publicRelevoUrl?: string, apiKey: string,
 *          signing: import("@relevo/node-server").SigningKey,
 *          users: Array<{id: number, username: string, password: string, name: string, clientCode: string}>,
 *          retries?: number, backoff?: number}} options
 */
export function createInbox({ relevoUrl, publicRelevoUrl = relevoUrl, apiKey, signing, users, retries, backoff }) {
  const relevo = new RelevoClient({ url: relevoUrl, apiKey, ...(retries === undefined ? {} : { retries }), ...(backoff === undefined ? {} : { backoff }) });
  const sessions = new Map(); // session id → user
  const conversations = new Map(); // clientCode → messages, the "database"
  let messageSeq = 0;
  let jobSeq = 0;

  const publish = (clientCode, event, data, idempotencyKey) =>
    relevo.publish(channelOf(clientCode), event, { clientCode, ...data }, idempotencyKey ? { idempotencyKey } : {});

  function store(clientCode, message) {
    const list = conversations.get(clientCode) ?? [];
    list.push(message);
    conversations.set(clientCode, list);
    return list.filter((m) => m.from === message.from && m.direction === "in").length;
  }

  /** MessageService: a WhatsApp message came in, or an agent sent one. */
  const messages = {
    async receive(clientCode, { from, body }) {
      const message = { id: ++messageSeq, from: text(from, "from", 64), body: text(body, "body"), direction: "in", at: new Date().toISOString() };
      const unread = store(clientCode, message);
      // The key is the message's id: a retried publish (or a second call for
      // the same stored message) is one event for every screen.
      await publish(clientCode, "message:new", { message, conversation: { id: from, unread } }, `message:${message.id}`);
      return message;
    },
    async send(clientCode, { to, body }) {
      const message = { id: ++messageSeq, from: text(to, "to", 64), body: text(body, "body"), direction: "out", at: new Date().toISOString() };
      store(clientCode, message);
      await publish(clientCode, "message:new", { message, conversation: { id: to, unread: 0 } }, `message:${message.id}`);
      return message;
    },
  };

  /** WhatsAppService: the session of the company's WhatsApp number. */
  const whatsapp = {
    qr: (clientCode, qr) => publish(clientCode, "whatsapp:qr", { qr: text(qr, "qr") }),
    authenticated: (clientCode, phone) => publish(clientCode, "whatsapp:authenticated", { phone: text(phone, "phone", 64) }),
    disconnected: (clientCode, reason) => publish(clientCode, "whatsapp:disconnected", { reason: text(reason, "reason", 256) }),
  };

  /** A bulk send: one `bulk:progress` per number, the last with `done: true`. */
  async function bulkSend(clientCode, jobId, numbers, body) {
    let sent = 0;
    for (const [i, to] of numbers.entries()) {
      await messages.send(clientCode, { to, body });
      sent += 1;
      const progress = { jobId, sent, failed: 0, total: numbers.length, done: i === numbers.length - 1 };
      await publish(clientCode, "bulk:progress", progress, `bulk:${jobId}:${i}`);
    }
  }
  const jobs = new Set(); // running bulk sends, so close() can wait for them

  function userOf(req) {
    const auth = req.headers.authorization ?? "";
    const user = auth.startsWith("Bearer ") ? sessions.get(auth.slice(7)) : undefined;
    if (!user) throw new HttpError(401, "sesión inválida");
    return user;
  }

  const routes = {
    "POST /api/login": async (req) => {
      const { username, password } = await readJson(req);
      const user = users.find((u) => u.username === username);
      // Compare digests in constant time; an unknown user costs the same.
      const ok = user !== undefined && timingSafeEqual(digest(user.password), digest(password));
      if (!ok) throw new HttpError(401, "usuario o contraseña incorrectos");
      const session = randomBytes(24).toString("base64url");
      sessions.set(session, user);
      return { session, user: { id: user.id, name: user.name, clientCode: user.clientCode } };
    },
    // What the Socket.IO handshake's `auth` did: the CRM's session in, relevo's
    // token out (roles and tenant decided here, never by the browser).
    "GET /api/relevo-token": async (req) => {
      const user = userOf(req);
      const token = mintToken({ user: String(user.id), roles: ["agent"], tenant: user.clientCode, ttl: TOKEN_TTL }, signing);
      return { token, url: publicRelevoUrl, channel: channelOf(user.clientCode), expiresIn: TOKEN_TTL };
    },
    // The snapshot a page reloads when relevo says a gap cannot be closed.
    "GET /api/conversations": async (req) => ({ messages: conversations.get(userOf(req).clientCode) ?? [] }),
    "POST /api/messages": async (req) => {
      const user = userOf(req);
      const { to, body } = await readJson(req);
      return { message: await messages.send(user.clientCode, { to, body }) };
    },
    "POST /api/bulk": async (req) => {
      const user = userOf(req);
      const { numbers, body } = await readJson(req);
      if (!Array.isArray(numbers) || numbers.length === 0 || numbers.length > MAX_BULK) {
        throw new HttpError(400, `numbers: de 1 a ${MAX_BULK} números`);
      }
      numbers.forEach((n) => text(n, "numbers[]", 64));
      text(body, "body");
      const jobId = `job-${++jobSeq}`;
      const job = bulkSend(user.clientCode, jobId, numbers, body)
        .catch((err) => console.error(`bulk ${jobId}:`, err))
        .finally(() => jobs.delete(job));
      jobs.add(job);
      return { jobId, total: numbers.length };
    },
  };

  async function handle(req, res) {
    const route = routes[`${req.method} ${new URL(req.url, "http://x").pathname}`];
    let status = 200;
    let body;
    try {
      if (!route) throw new HttpError(404, "no existe");
      body = await route(req);
    } catch (err) {
      status = err instanceof HttpError ? err.status : 502; // relevo (or WhatsApp) failed
      body = { error: err instanceof HttpError ? err.message : "no se pudo completar, reintente" };
      if (!(err instanceof HttpError)) console.error(err);
    }
    res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" });
    res.end(JSON.stringify(body));
  }

  const server = createServer(handle);
  return {
    relevo,
    messages,
    whatsapp,
    bulkSend,
    server,
    /** Listen (port 0: any free port); resolves to the base URL. */
    listen(port = 3000, host = "127.0.0.1") {
      return new Promise((resolve) => server.listen(port, host, () => resolve(`http://${host}:${server.address().port}`)));
    },
    async close() {
      await Promise.allSettled([...jobs]);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
