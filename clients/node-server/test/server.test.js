// @relevo/node-server against a real relevo server. tests/js/test_node_server.py
// starts the server and runs this file with `node --test` and these variables:
//   RELEVO_URL          the server (HTTP API and /ws)
//   RELEVO_API_KEY      its API key
//   RELEVO_SECRET       its auth.secret (HS256)
//   RELEVO_PRIVATE_KEY  the RSA private key whose public half is its auth.public_key
//   RELEVO_WAIT_MS      how long any condition may take to come true
// A fault proxy in this file stands between the SDK and the server where a
// test needs a lost answer, a 5xx or a hang.
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { createServer } from "node:http";
import { test } from "node:test";

import { MIN_SECRET_LENGTH, RelevoApiError, RelevoClient, mintToken, retryDelay } from "@relevo/node-server";

const env = process.env;
const skip = env.RELEVO_URL ? false : "run by tests/js/test_node_server.py, which starts a relevo server";
const WAIT_MS = Number(env.RELEVO_WAIT_MS || 20000);
const FAST = { backoff: 1, timeout: WAIT_MS };
let serial = 0;
const fresh = (ns = "demo") => `${ns}:sdk-${process.pid}-${++serial}`;
const client = (options = {}) => new RelevoClient({ url: env.RELEVO_URL, apiKey: env.RELEVO_API_KEY, ...FAST, ...options });
const isApiError = (code, extra = {}) => (err) => {
  assert.ok(err instanceof RelevoApiError, String(err));
  assert.equal(err.code, code, err.message);
  for (const [k, v] of Object.entries(extra)) assert.equal(err[k], v, `${k} of ${err.message}`);
  return true;
};

/** An HTTP proxy to relevo that does, for each request in turn, what `plan` says:
 * "forward", "lose" (forward, then drop the connection before the answer),
 * "503" (relevo's unavailable, not forwarded), "502" (a gateway's HTML page),
 * "hang" (never answer). Requests past the plan are forwarded. */
async function faultProxy(plan) {
  const seen = [];
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    const step = plan[seen.length] ?? "forward";
    seen.push({ method: req.method, url: req.url, body: body.length ? JSON.parse(body) : null, step });
    if (step === "hang") return;
    if (step === "503") {
      res.writeHead(503, { "Content-Type": "application/json" });
      return res.end('{"code":"unavailable","message":"broker unreachable","retry":true}');
    }
    if (step === "502") {
      res.writeHead(502, { "Content-Type": "text/html" });
      return res.end("<html><body>Bad Gateway</body></html>");
    }
    const headers = { ...req.headers };
    delete headers.host;
    delete headers.connection;
    const upstream = await fetch(env.RELEVO_URL + req.url, { method: req.method, headers, body: body.length ? body : undefined });
    const text = await upstream.text();
    if (step === "lose") return req.socket.destroy(); // relevo did it; the caller never hears
    res.writeHead(upstream.status, { "Content-Type": "application/json" });
    res.end(text);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  const close = () => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  };
  return { url, seen, close };
}

/** A raw WebSocket to relevo (Node 22's global WebSocket) that keeps every frame. */
async function socket(token) {
  const ws = new WebSocket(env.RELEVO_URL.replace(/^http/, "ws") + "/ws");
  const frames = [];
  let closed = false;
  ws.addEventListener("message", (e) => frames.push(JSON.parse(e.data)));
  ws.addEventListener("close", () => (closed = true));
  await new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve, { once: true });
    ws.addEventListener("error", reject, { once: true });
  });
  const until = async (cond, what) => {
    const deadline = Date.now() + WAIT_MS;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(frames)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  let id = 0;
  const request = async (frame) => {
    const n = ++id;
    ws.send(JSON.stringify({ id: n, ...frame }));
    await until(() => frames.some((f) => f.id === n), `the reply to ${frame.op}`);
    return frames.find((f) => f.id === n);
  };
  const connected = await request({ op: "connect", token });
  return { ws, frames, request, until, connected, isClosed: () => closed };
}

const rsa = env.RELEVO_PRIVATE_KEY;

test("publish, history since a position, broadcast", { skip }, async () => {
  const relevo = client();
  const ch = fresh();
  const first = await relevo.publish(ch, "message:new", { texto: "hola" });
  assert.equal(first.channel, ch);
  assert.equal(typeof first.epoch, "string");
  const second = await relevo.publish(ch, "message:new", { texto: "¿sigue ahí?" });
  assert.equal(second.offset, first.offset + 1);

  const all = await relevo.history(ch);
  assert.deepEqual(all.publications.map((p) => [p.off, p.ev, p.data]), [
    [first.offset, "message:new", { texto: "hola" }],
    [second.offset, "message:new", { texto: "¿sigue ahí?" }],
  ]);
  const after = await relevo.history(ch, { since: first, limit: 10 });
  assert.deepEqual(after.publications.map((p) => p.off), [second.offset]);

  const [a, b] = [fresh(), fresh()];
  const results = await relevo.broadcast([a, b], "whatsapp:disconnected", { motivo: "logout" });
  assert.deepEqual(results.map((r) => r.channel), [a, b]);
  for (const ch2 of [a, b]) {
    const past = await relevo.history(ch2);
    assert.deepEqual(past.publications.map((p) => p.data), [{ motivo: "logout" }]);
  }
});

test("a refusal is not retried: unknown namespace, wrong API key, bad input", { skip }, async () => {
  const proxy = await faultProxy([]);
  try {
    const relevo = client({ url: proxy.url });
    await assert.rejects(relevo.publish("nope:x", "e"), isApiError("not_found", { status: 404, attempts: 1, retry: false }));
    const wrong = client({ url: proxy.url, apiKey: "not-the-key" });
    await assert.rejects(wrong.history(fresh()), isApiError("unauthorized", { status: 401, attempts: 1 }));
    assert.equal(proxy.seen.length, 2);
    await assert.rejects(relevo.publish("", "e"), isApiError("bad_request", { status: 0 }));
    await assert.rejects(relevo.publish(fresh(), "e", 1, { idempotencyKey: "k".repeat(257) }), isApiError("bad_request"));
    assert.equal(proxy.seen.length, 2, "nothing sent for input refused here");
  } finally {
    await proxy.close();
  }
});

test("an answer lost after relevo published: the retry reuses the key and publishes once", { skip }, async () => {
  const proxy = await faultProxy(["lose", "lose"]);
  try {
    const ch = fresh();
    const got = await client({ url: proxy.url }).publish(ch, "message:new", { id: 7 });
    assert.deepEqual(proxy.seen.map((s) => s.step), ["lose", "lose", "forward"]);
    const keys = new Set(proxy.seen.map((s) => s.body.idempotency_key));
    assert.equal(keys.size, 1);
    assert.match([...keys][0], /^sdk:/);
    const past = await client().history(ch);
    assert.deepEqual(past.publications.map((p) => [p.off, p.data]), [[got.offset, { id: 7 }]]);
  } finally {
    await proxy.close();
  }
});

test("the caller's key is the one sent, and a broadcast retried publishes once per channel", { skip }, async () => {
  const proxy = await faultProxy(["lose"]);
  try {
    const [a, b] = [fresh(), fresh()];
    const relevo = client({ url: proxy.url });
    const results = await relevo.broadcast([a, b], "bulk:progress", { enviados: 1, total: 2 }, { idempotencyKey: "bulk-42-1" });
    assert.deepEqual(proxy.seen.map((s) => s.body.idempotency_key), ["bulk-42-1", "bulk-42-1"]);
    for (const [i, ch] of [a, b].entries()) {
      const past = await client().history(ch);
      assert.deepEqual(past.publications.map((p) => p.off), [results[i].offset]);
    }
  } finally {
    await proxy.close();
  }
});

test("5xx answers and a hang are retried with back-off; the last error is thrown when retries run out", { skip }, async () => {
  const proxy = await faultProxy(["503", "502", "hang"]);
  try {
    const ch = fresh();
    const got = await client({ url: proxy.url, timeout: 2000, retries: 6 }).publish(ch, "whatsapp:qr", { qr: "2@abc" });
    assert.deepEqual(proxy.seen.slice(0, 4).map((s) => s.step), ["503", "502", "hang", "forward"]);
    // A loaded machine may time out the forwarded attempt too; the key keeps it one publication.
    const past = await client().history(ch);
    assert.deepEqual(past.publications.map((p) => p.off), [got.offset]);
  } finally {
    await proxy.close();
  }
  const down = await faultProxy(["503", "503", "503"]);
  try {
    await assert.rejects(
      client({ url: down.url, retries: 2 }).presence(fresh()),
      isApiError("unavailable", { status: 503, attempts: 3, retry: true }),
    );
    assert.equal(down.seen.length, 3);
  } finally {
    await down.close();
  }
  const gone = await faultProxy([]);
  await gone.close();
  await assert.rejects(client({ url: gone.url, retries: 1 }).publish(fresh(), "e"), isApiError("network", { status: 0, attempts: 2 }));
});

test("retries: 0 sends no made-up key (the caller's only)", { skip }, async () => {
  const proxy = await faultProxy([]);
  try {
    const relevo = client({ url: proxy.url, retries: 0 });
    await relevo.publish(fresh(), "e");
    await relevo.publish(fresh(), "e", null, { idempotencyKey: "mine" });
    assert.deepEqual(proxy.seen.map((s) => s.body.idempotency_key), [undefined, "mine"]);
  } finally {
    await proxy.close();
  }
});

test("back-off doubles from `backoff`, with jitter, at most 5 s", () => {
  for (let i = 0; i < 200; i++) {
    const d0 = retryDelay(0, 200);
    const d3 = retryDelay(3, 200);
    const d20 = retryDelay(20, 200);
    assert.ok(d0 >= 100 && d0 <= 200, String(d0));
    assert.ok(d3 >= 800 && d3 <= 1600, String(d3));
    assert.ok(d20 >= 2500 && d20 <= 5000, String(d20));
  }
});

test("an HS256 token connects; presence sees it; disconnect ends it with forced", { skip }, async () => {
  const token = mintToken({ user: "agente-1", roles: ["agent"], tenant: "C042", claims: { client_code: "C042" } }, { secret: env.RELEVO_SECRET });
  const [, payload] = token.split(".");
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
  assert.deepEqual(
    { ...claims, iat: 0, exp: claims.exp - claims.iat },
    { sub: "agente-1", roles: ["agent"], tenant: "C042", client_code: "C042", iat: 0, exp: 600 },
  );
  const ch = fresh();
  const peer = await socket(token);
  try {
    assert.equal(peer.connected.ok?.user, "agente-1", JSON.stringify(peer.connected));
    const sub = await peer.request({ op: "sub", ch });
    assert.ok(sub.ok, JSON.stringify(sub));
    const who = await client().presence(ch);
    assert.deepEqual(Object.values(who.clients).map((c) => c.user), ["agente-1"]);
    const pub = await client().publish(ch, "message:new", { n: 1 });
    await peer.until(() => peer.frames.some((f) => f.ch === ch && f.off === pub.offset), "the publication");
    await client().disconnect("agente-1");
    await peer.until(() => peer.isClosed(), "the socket to close");
    assert.ok(peer.frames.some((f) => f.op === "disconnect" && f.code === "forced"), JSON.stringify(peer.frames));
  } finally {
    peer.ws.close();
  }
});

test("an RS256 token connects, and its roles open a role's channel", { skip }, async () => {
  const token = mintToken({ user: "supervisor", roles: ["gtr"] }, { privateKey: rsa, keyId: "k1" });
  const header = JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString());
  assert.deepEqual(header, { alg: "RS256", typ: "JWT", kid: "k1" });
  const peer = await socket(token);
  try {
    assert.equal(peer.connected.ok?.user, "supervisor", JSON.stringify(peer.connected));
    assert.ok((await peer.request({ op: "sub", ch: "gtr" })).ok);
  } finally {
    peer.ws.close();
  }
  const plain = await socket(mintToken({ user: "agente-2" }, { privateKey: rsa }));
  try {
    const refused = await plain.request({ op: "sub", ch: "gtr" });
    assert.equal(refused.err?.code, "forbidden", JSON.stringify(refused));
  } finally {
    plain.ws.close();
  }
});

test("relevo refuses a token signed with another key", { skip }, async () => {
  const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  const forged = [
    mintToken({ user: "x" }, { secret: "another-secret-of-at-least-32-characters" }),
    mintToken({ user: "x" }, { privateKey: other }),
  ];
  for (const token of forged) {
    const peer = await socket(token);
    try {
      assert.equal(peer.connected.err?.code, "unauthorized", JSON.stringify(peer.connected));
    } finally {
      peer.ws.close();
    }
  }
});

test("mintToken refuses what relevo would refuse, before signing", () => {
  const secret = "s".repeat(MIN_SECRET_LENGTH);
  assert.throws(() => mintToken({ user: "u" }, { secret: "short" }), isApiError("bad_request"));
  assert.throws(() => mintToken({ user: "" }, { secret }), isApiError("bad_request"));
  assert.throws(() => mintToken({ user: "u".repeat(256) }, { secret }), isApiError("bad_request"));
  assert.throws(() => mintToken({ user: "u", ttl: 0 }, { secret }), isApiError("bad_request"));
  assert.throws(() => mintToken({ user: "u", claims: { exp: 1 } }, { secret }), /may not set exp/);
  assert.throws(() => mintToken({ user: "u", roles: [1] }, { secret }), isApiError("bad_request"));
  const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
  assert.throws(() => mintToken({ user: "u" }, { privateKey: ec }), /RSA private key/);
  assert.throws(() => mintToken({ user: "u" }, { privateKey: "not a pem" }), /PEM/);
  assert.throws(() => mintToken({ user: "u" }, { secret, algorithm: "none" }), /HS256 or RS256/);
  const at = mintToken({ user: "u", ttl: 60, now: 1000, audience: "crm", issuer: "backend" }, { secret });
  const claims = JSON.parse(Buffer.from(at.split(".")[1], "base64url").toString());
  assert.deepEqual(claims, { sub: "u", roles: [], iat: 1000, exp: 1060, aud: "crm", iss: "backend" });
});
