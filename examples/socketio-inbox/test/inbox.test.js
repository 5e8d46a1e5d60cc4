// The CRM backend and its front-end service against a real relevo.
// tests/js/test_socketio_inbox.py builds the service (tsc → dist/), starts
// relevo with this example's relevo.toml, and runs this file with:
//   RELEVO_URL, RELEVO_API_KEY, RELEVO_SECRET (its auth.secret), RELEVO_WAIT_MS
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { connect } from "@relevo/client";

import { createInbox } from "../backend/app.js";
import { InboxService, memoryStore } from "../dist/inbox-service.js";

const env = process.env;
const skip = env.RELEVO_URL ? false : "run by tests/js/test_socketio_inbox.py, which starts relevo";
const WAIT_MS = Number(env.RELEVO_WAIT_MS || 20000);
const FAST = { minDelay: 50, maxDelay: 400 };
const USERS = [
  { id: 1, username: "ana", password: "ana-demo", name: "Ana", clientCode: "C042" },
  { id: 2, username: "beto", password: "beto-demo", name: "Beto", clientCode: "C043" },
];

async function until(cond, what, detail = () => "") {
  const deadline = Date.now() + WAIT_MS;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} ${detail()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

let inbox;
let backend;
before(async () => {
  if (skip) return;
  inbox = createInbox({
    relevoUrl: env.RELEVO_URL,
    apiKey: env.RELEVO_API_KEY,
    signing: { secret: env.RELEVO_SECRET },
    users: USERS,
    backoff: 10,
  });
  backend = await inbox.listen(0);
});
after(async () => inbox?.close());

async function call(method, path, { session, body } = {}) {
  const headers = { "Content-Type": "application/json" };
  if (session) headers.Authorization = `Bearer ${session}`;
  const res = await fetch(backend + path, { method, headers, body: body && JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

async function login(username) {
  const res = await call("POST", "/api/login", { body: { username, password: `${username}-demo` } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.session;
}

/** A started service and everything it handled. */
async function agent(session, store = memoryStore()) {
  const events = [];
  const reloads = [];
  const service = new InboxService({ backend, session, store, onReload: () => reloads.push(1), connectOptions: FAST });
  service.onAny((event) => events.push(event));
  await service.start();
  return { service, events, reloads, store };
}

test("an agent gets its company's events in order (WhatsApp session, messages, bulk progress), and no other's", { skip }, async () => {
  const ana = await agent(await login("ana"));
  const beto = await agent(await login("beto"));
  const qrs = [];
  const progress = [];
  ana.service.on("whatsapp:qr", (data) => qrs.push(data.qr));
  ana.service.on("bulk:progress", (data, event) => progress.push([data.sent, data.total, data.done, event.offset]));
  try {
    assert.equal(ana.service.channel, "crm:C042");
    await inbox.whatsapp.qr("C042", "2@qr-uno");
    await inbox.whatsapp.authenticated("C042", "+573001112233");
    for (const body of ["hola", "¿precio?", "gracias"]) await inbox.messages.receive("C042", { from: "+573009998877", body });
    await inbox.messages.receive("C043", { from: "+573005554433", body: "otra empresa" });
    const bulk = await call("POST", "/api/bulk", { session: await login("ana"), body: { numbers: ["+571", "+572", "+573"], body: "promo" } });
    assert.equal(bulk.status, 200, JSON.stringify(bulk.body));
    await until(() => progress.some(([, , done]) => done), "the last bulk progress");
    await inbox.whatsapp.disconnected("C042", "LOGOUT");
    await until(() => ana.events.at(-1)?.name === "whatsapp:disconnected", "whatsapp:disconnected");

    assert.deepEqual(ana.events.map((e) => e.name), [
      "whatsapp:qr",
      "whatsapp:authenticated",
      "message:new",
      "message:new",
      "message:new",
      ...["message:new", "bulk:progress", "message:new", "bulk:progress", "message:new", "bulk:progress"],
      "whatsapp:disconnected",
    ]);
    const offsets = ana.events.map((e) => e.offset);
    assert.deepEqual(offsets, offsets.map((_, i) => offsets[0] + i), "gapless, in order, once");
    assert.deepEqual(ana.events.slice(2, 5).map((e) => [e.data.message.body, e.data.conversation.unread]), [["hola", 1], ["¿precio?", 2], ["gracias", 3]]);
    assert.deepEqual(qrs, ["2@qr-uno"]);
    assert.deepEqual(progress.map(([sent, total, done]) => [sent, total, done]), [[1, 3, false], [2, 3, false], [3, 3, true]]);
    assert.ok(ana.events.every((e) => e.data.clientCode === "C042"));
    await until(() => beto.events.length === 1, "the other company's one message");
    assert.deepEqual(beto.events.map((e) => [e.name, e.data.clientCode, e.data.message.body]), [["message:new", "C043", "otra empresa"]]);
    assert.deepEqual([ana.reloads, beto.reloads], [[], []]);
  } finally {
    ana.service.stop();
    beto.service.stop();
  }
});

test("a page closed and opened again gets what it missed while closed, in order, once", { skip }, async () => {
  const session = await login("ana");
  const first = await agent(session);
  await inbox.messages.receive("C042", { from: "+573001", body: "antes" });
  await until(() => first.events.length === 1, "the message before closing");
  first.service.stop();

  for (const body of ["mientras 1", "mientras 2", "mientras 3"]) await inbox.messages.receive("C042", { from: "+573001", body });
  await inbox.whatsapp.disconnected("C042", "CONFLICT");

  const again = await agent(session, first.store); // the same localStorage
  try {
    await until(() => again.events.length === 4, "the missed events", () => JSON.stringify(again.events));
    assert.deepEqual(again.events.map((e) => e.data.message?.body ?? e.name), ["mientras 1", "mientras 2", "mientras 3", "whatsapp:disconnected"]);
    assert.equal(again.events[0].offset, first.events[0].offset + 1);
    await inbox.messages.receive("C042", { from: "+573001", body: "después" });
    await until(() => again.events.length === 5, "a live message after recovery");
    assert.equal(again.events[4].data.message.body, "después");
    assert.deepEqual(again.reloads, []);
  } finally {
    again.service.stop();
  }
});

test("the backend decides who sees what: no session, no token; another company's channel is refused", { skip }, async () => {
  assert.equal((await call("GET", "/api/relevo-token")).status, 401);
  assert.equal((await call("POST", "/api/login", { body: { username: "ana", password: "nope" } })).status, 401);
  assert.equal((await call("POST", "/api/login", { body: { username: "nadie", password: "x" } })).status, 401);
  const beto = await login("beto");
  const grant = await call("GET", "/api/relevo-token", { session: beto });
  assert.equal(grant.status, 200);
  assert.equal(grant.body.channel, "crm:C043");
  const bad = await call("POST", "/api/bulk", { session: beto, body: { numbers: [], body: "x" } });
  assert.equal(bad.status, 400);

  const rv = connect(grant.body.url, { token: grant.body.token, ...FAST });
  try {
    const errors = [];
    const sub = rv.subscribe("crm:C042", () => assert.fail("got another company's event"), { onError: (err) => errors.push(err.code) });
    await assert.rejects(sub.ready, (err) => err.code === "forbidden");
    assert.deepEqual(errors, ["forbidden"]);
  } finally {
    rv.close();
  }
});
