// Run the CRM backend: `npm start` with
//   RELEVO_URL            relevo's address as this backend reaches it (http://127.0.0.1:8000)
//   RELEVO_PUBLIC_URL     as browsers reach it (default: RELEVO_URL)
//   RELEVO_API_KEY        relevo's auth.api_key
//   RELEVO_TOKEN_SECRET   relevo's auth.secret (HS256), or
//   RELEVO_TOKEN_PRIVATE_KEY  a PEM file whose public half is relevo's auth.public_key (RS256)
//   PORT                  default 3000
import { readFileSync } from "node:fs";

import { createInbox } from "./app.js";

const env = process.env;
const signing = env.RELEVO_TOKEN_PRIVATE_KEY
  ? { privateKey: readFileSync(env.RELEVO_TOKEN_PRIVATE_KEY, "utf8") }
  : { secret: env.RELEVO_TOKEN_SECRET ?? "" };
// Demo agents of two client companies; a real CRM reads its users table.
const users = [
  { id: 1, username: "ana", password: "ana-demo", name: "Ana", clientCode: "C042" },
  { id: 2, username: "beto", password: "beto-demo", name: "Beto", clientCode: "C043" },
];
const inbox = createInbox({
  relevoUrl: env.RELEVO_URL ?? "http://127.0.0.1:8000",
  publicRelevoUrl: env.RELEVO_PUBLIC_URL,
  apiKey: env.RELEVO_API_KEY ?? "",
  signing,
  users,
});
const url = await inbox.listen(Number(env.PORT ?? 3000));
console.log(`CRM backend on ${url}`);
