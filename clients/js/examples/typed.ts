// A typed use of every export of @relevo/client, compiled with
// `tsc --strict --noEmit` by tests/js/test_types.py: when index.d.ts drifts
// from the code (or loses precision), this stops compiling. It is also a
// short tour of the API for TypeScript users.
import * as relevo from "@relevo/client";
import {
  Client,
  connect,
  type ConnectionState,
  type LiveChange,
  type Publication,
  RelevoError,
  type StreamPosition,
  type Subscription,
} from "@relevo/client";

const version: string = relevo.VERSION;

// -- connecting ----------------------------------------------------------------------
const rv: Client = connect("https://relevo.example.com", {
  getToken: async () => "jwt",
  transports: ["websocket", "sse"],
  minDelay: 250,
  maxDelay: 10_000,
  timeout: 10_000,
  pingInterval: 25_000,
  pongTimeout: 10_000,
  fallbackAfter: 2,
  offlineAfter: 3,
});
const same: Client = new relevo.Client(new URL("wss://relevo.example.com/rt"), { token: "jwt" });
const onPage: Client = connect({ token: "jwt" }); // the page's origin
// @ts-expect-error: a transport relevo does not have
connect("https://relevo.example.com", { transports: ["long-poll"] });

const stop = rv.on("state", (state: ConnectionState, status) => {
  const attempt: number = status.attempt;
  const transport: "websocket" | "sse" | null = status.transport;
  console.log(state, status.reason, attempt, transport, status.everConnected, status.retryIn);
});
rv.on("disconnect", (frame) => console.log(frame.code, frame.reconnect));
rv.on("error", (err) => console.log(err.code, err.retry));
// @ts-expect-error: no such event
rv.on("message", () => {});
stop();
// @ts-expect-error: states are a closed set
if (rv.state === "open") console.log("never");
const user: string | undefined = rv.info?.user;

// -- subscribing, with recovery ------------------------------------------------------
interface Assigned {
  lead: number;
  asesor: string;
}
const saved: StreamPosition = { epoch: "e1", offset: 41 };
const sub: Subscription<Assigned> = rv.subscribe<Assigned>(
  "gtr",
  (pub: Publication<Assigned>) => console.log(pub.off, pub.ev, pub.data.lead, pub.data.asesor),
  {
    since: saved,
    onRecovered: ({ missed, epoch, offset }) => console.log(missed, epoch, offset),
    onReset: (position) => console.log("reload from", position.epoch, position.offset),
    onError: (err) => console.log(err.code),
    onPresence: (push) => console.log(push.ev, push.data.user),
    onSubscribed: (result) => console.log(result.recovered, result.offset),
  },
);
sub.ready.then((s) => console.log(s.state, s.position?.offset)).catch((err: RelevoError) => err.code);
// @ts-expect-error: the position is read-only
sub.position = saved;
sub.unsubscribe();

// -- publish, history, presence -----------------------------------------------------
async function ops(): Promise<void> {
  const at: StreamPosition = await rv.publish("room:1", "typing", { who: "4" });
  const past = await rv.history<Assigned>("gtr", { since: at, limit: 50 });
  for (const p of past.publications) console.log(p.data.lead);
  const who = await rv.presence("room:1");
  for (const [id, entry] of Object.entries(who.clients)) console.log(id, entry.user);
  try {
    await rv.publish("gtr", "x");
  } catch (err) {
    if (err instanceof RelevoError && err.code === "forbidden") console.log(err.status, err.extra);
  }
}

// -- live collections ---------------------------------------------------------------
interface Lead {
  id: number;
  version?: number;
  state: "nuevo" | "derivado" | "en_gestion" | "terminado";
  asesor_id: number;
}
const leads = rv.live<Lead>("lead", { asesor_id: 4, state: ["derivado", "en_gestion"] }, {
  limit: 100,
  newest: "updated",
  onChange: (rows: Map<number, Lead>, change: LiveChange<Lead>) => {
    if (change.type === "remove") console.log(change.row.state, change.left);
    else if (change.type !== "snapshot") console.log(change.row.asesor_id, change.previous?.state);
    console.log(rows.size);
  },
  onError: (err) => console.log(err.code),
});
leads.ready.then((l) => console.log(l.rows.get(1)?.state, l.total, l.position?.offset));
leads.close();

// -- errors, backoff, page helpers --------------------------------------------------
const err = new RelevoError("timeout", "no reply", { retry: true });
const wait: number = relevo.backoffDelay(3, 250, 10_000, () => 0.5);
const poller = relevo.poll(async () => console.log("tick"), 2000, { immediate: false });
void poller.now();
poller.stop();
const labels = { ...relevo.LABELS, connected: "En línea" };
const unfollow: () => void = relevo.indicator(document.createElement("span"), rv, { labels });
unfollow();

console.log(version, same, onPage, user, ops, err, wait);
rv.close();
