// The package in Node (>= 22, global WebSocket) against a real relevo server.
// tests/js/test_node.py starts the server (Redis broker, so history survives a
// restart), a TCP proxy whose connections it can cut, and a control endpoint,
// then runs this file with `node --test` and these variables:
//   RELEVO_URL      the proxy, which the client connects through
//   RELEVO_DIRECT   the server itself, for the HTTP API
//   RELEVO_API_KEY  the server's API key; RELEVO_TOKEN a user's JWT
//   RELEVO_CONTROL  POST /cut: drop and block every connection, kill the server
//                   and start it again; POST /heal: let connections through
//   RELEVO_WAIT_MS  how long any condition may take to come true
import assert from "node:assert/strict";
import { test } from "node:test";

import { connect, RelevoError, VERSION } from "@relevo/client";

const env = process.env;
const skip = env.RELEVO_URL ? false : "run by tests/js/test_node.py, which starts a relevo server";
const WAIT_MS = Number(env.RELEVO_WAIT_MS || 20000);
const FAST = { minDelay: 50, maxDelay: 400 }; // a cut test need not wait out real backoff

/** Resolve once `cond()` is true (checked on every turn of the event loop). */
async function until(cond, what, detail = () => "") {
  const deadline = Date.now() + WAIT_MS;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} ${detail()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function publish(channel, event, data) {
  const res = await fetch(`${env.RELEVO_DIRECT}/api/publish`, {
    method: "POST",
    headers: { Authorization: `apikey ${env.RELEVO_API_KEY}`, "Content-Type": "application/json" },
    body: JSON.stringify({ channel, event, data }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return res.json();
}

async function control(action) {
  const res = await fetch(`${env.RELEVO_CONTROL}/${action}`, { method: "POST" });
  assert.equal(res.status, 200, `control ${action}`);
}

test("connect() outside a browser needs a url", () => {
  assert.throws(() => connect({}), (err) => err instanceof RelevoError && err.code === "bad_request");
  assert.equal(typeof VERSION, "string");
});

test("subscribes, gets a publication, and recovers by offset after the server is cut and restarted", { skip }, async () => {
  const channel = `demo:node-${process.pid}`;
  const received = [];
  const recovered = [];
  const resets = [];
  const rv = connect(env.RELEVO_URL, FAST);
  try {
    const sub = rv.subscribe(channel, (pub) => received.push(pub), {
      onRecovered: (info) => recovered.push(info),
      onReset: (position) => resets.push(position),
    });
    await sub.ready;
    await until(() => rv.state === "connected", "connected");
    assert.equal(rv.status.transport, "websocket");

    const first = await publish(channel, "antes", { n: 1 });
    await until(() => received.length === 1, "the first publication");
    assert.equal(received[0].off, first.offset);
    assert.equal(received[0].ev, "antes");
    assert.deepEqual(received[0].data, { n: 1 });

    await control("cut"); // every connection dropped, the server killed and started again
    await until(() => rv.state !== "connected", "the client to see the cut");
    await publish(channel, "mientras", { n: 2 });
    await publish(channel, "mientras", { n: 3 });
    await control("heal");

    const seen = () => JSON.stringify({ status: rv.status, received, recovered, resets });
    await until(() => received.length === 3 && rv.state === "connected", "recovery", seen);
    assert.deepEqual(received.map((p) => p.data.n), [1, 2, 3]);
    assert.deepEqual(received.map((p) => p.off), [first.offset, first.offset + 1, first.offset + 2]);
    assert.deepEqual(resets, []);
    assert.deepEqual(recovered, [{ missed: 2, epoch: first.epoch, offset: first.offset + 2 }]);
    assert.deepEqual(sub.position, { epoch: first.epoch, offset: first.offset + 2 });

    await publish(channel, "después", { n: 4 });
    await until(() => received.length === 4, "a publication after recovery");
    assert.equal(received[3].off, first.offset + 3);
  } finally {
    rv.close();
  }
  assert.equal(rv.state, "disconnected");
  assert.equal(rv.reason, "closed");
});

test("publish, history and presence with a token", { skip }, async () => {
  const channel = `demo:ops-${process.pid}`;
  const rv = connect(env.RELEVO_DIRECT, { token: env.RELEVO_TOKEN });
  try {
    const got = [];
    await rv.subscribe(channel, (pub) => got.push(pub)).ready;
    assert.equal(rv.info.user, "nodo");
    const at = await rv.publish(channel, "hola", { desde: "node" });
    await until(() => got.length === 1, "our own publication");
    const past = await rv.history(channel, { limit: 10 });
    assert.deepEqual(past.publications.map((p) => [p.off, p.ev, p.data]), [[at.offset, "hola", { desde: "node" }]]);
    const who = await rv.presence(channel);
    assert.deepEqual(Object.values(who.clients).map((c) => c.user), ["nodo"]);
    await assert.rejects(rv.publish("gtr", "x"), (err) => err instanceof RelevoError && err.code === "forbidden");
  } finally {
    rv.close();
  }
});

test("Server-Sent Events in Node", { skip }, async () => {
  const channel = `demo:sse-${process.pid}`;
  const rv = connect(env.RELEVO_DIRECT, { transports: ["sse"] });
  try {
    const got = [];
    await rv.subscribe(channel, (pub) => got.push(pub)).ready;
    assert.equal(rv.status.transport, "sse");
    await publish(channel, "por-sse", { ok: true });
    await until(() => got.length === 1, "a publication over SSE");
    assert.deepEqual(got[0].data, { ok: true });
  } finally {
    rv.close();
  }
});
