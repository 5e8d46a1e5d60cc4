// Loaded by Django's {% relevo_client %}: imports relevo.js from the relevo
// server and connects, with the Django token view as getToken (a fresh,
// short-lived token on connect, before expiry, and after token_expired).
//
//   import { rv, relevo } from "/static/relevo/django/client.js";
//   rv.subscribe("cargue:norte", (pub) => { ... });
const tag = document.querySelector("script[data-relevo-url]");
if (!tag) throw new Error("relevo: the {% relevo_client %} script tag is missing");
const base = (tag.dataset.relevoUrl || location.origin).replace(/\/+$/, "");
const tokenUrl = tag.dataset.tokenUrl;

export const relevo = await import(`${base}/relevo.js`);

async function getToken() {
  const res = await fetch(tokenUrl, {
    credentials: "same-origin",
    cache: "no-store",
    headers: { Accept: "application/json" },
  });
  let body = {};
  try {
    body = await res.json();
  } catch {
    // not JSON: a login redirect or a proxy's page
  }
  if (!res.ok || typeof body.token !== "string") {
    throw new relevo.RelevoError(body.code || "unauthorized", body.message || `token view: ${res.status}`, {
      status: res.status,
    });
  }
  return body.token;
}

export const rv = relevo.connect(base, { getToken });
window.relevoClient = { rv, relevo };
document.dispatchEvent(new CustomEvent("relevo:ready", { detail: { rv, relevo } }));
