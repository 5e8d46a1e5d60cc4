// A typed use of every export of @relevo/node-server, compiled with
// `tsc --strict --noEmit` by tests/js/test_node_server.py; its expect-error
// lines fail the build if a type loosens to `any`.
import {
  MIN_SECRET_LENGTH,
  RESERVED_CLAIMS,
  RelevoApiError,
  RelevoClient,
  mintToken,
  retryDelay,
  type History,
  type Published,
  type SigningKey,
} from "@relevo/node-server";

interface NewMessage {
  clientCode: string;
  message: { id: number; from: string; body: string };
}

declare const secret: string;
declare const pem: string;

export async function crm(): Promise<number> {
  const relevo = new RelevoClient({ url: "http://127.0.0.1:8000", apiKey: "k", retries: 5, backoff: 100 });
  const at: Published = await relevo.publish<NewMessage>(
    "crm:C042",
    "message:new",
    { clientCode: "C042", message: { id: 1, from: "+57300", body: "hola" } },
    { idempotencyKey: "msg-1" },
  );
  // @ts-expect-error the data must match the type argument
  await relevo.publish<NewMessage>("crm:C042", "message:new", { clientCode: 42 });
  // @ts-expect-error an idempotency key is a string
  await relevo.publish("crm:C042", "e", null, { idempotencyKey: 1 });

  const all: Published[] = await relevo.broadcast(["crm:C042", "crm:C043"], "whatsapp:disconnected", {});
  const past: History<NewMessage> = await relevo.history<NewMessage>("crm:C042", { since: at, limit: 50 });
  const body: string = past.publications[0]?.data.message.body ?? "";
  const who = await relevo.presence("crm:C042");
  const users: string[] = Object.values(who.clients).map((c) => c.user);
  await relevo.disconnect("agente-1");

  try {
    await relevo.publish("nope:x", "e");
  } catch (err) {
    if (err instanceof RelevoApiError) {
      const retried: boolean = err.retry && err.attempts > 1;
      const status: number = err.status;
      if (err.code === "network" || err.code === "timeout" || retried || status >= 500) return 0;
    }
  }

  const hs: SigningKey = { secret };
  const agent: string = mintToken({ user: "agente-1", roles: ["agent"], tenant: "C042", ttl: 300 }, hs);
  const rs: string = mintToken({ user: "s", claims: { client_code: "C042" }, audience: "relevo" }, { privateKey: pem, keyId: "k1" });
  // @ts-expect-error a key is a secret or a private key, not both
  mintToken({ user: "x" }, { secret, privateKey: pem });
  // @ts-expect-error RS256 needs the private key
  mintToken({ user: "x" }, { algorithm: "RS256", secret });
  // @ts-expect-error claims are flat values
  mintToken({ user: "x", claims: { nested: { a: 1 } } }, hs);

  const reserved: readonly string[] = RESERVED_CLAIMS;
  const delay: number = retryDelay(2, 200);
  return all.length + body.length + users.length + agent.length + rs.length + reserved.length + delay + MIN_SECRET_LENGTH;
}
