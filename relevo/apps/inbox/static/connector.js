// The WhatsApp connector card: the tenant's session status as a live query
// (whatsapp:qr / whatsapp:authenticated / whatsapp:disconnected), the QR to
// scan while it waits, and — in demo mode — the simulator's buttons. While
// relevo itself is unreachable the status is unknown, and the card says so
// rather than repeat the last one it heard.

import * as ui from "/static/ui/ui.js";
import { api, errorText, fmtPhone } from "./common.js";

const DETAIL = {
  authenticated: (c) => `Conectado${c.phone ? ` · ${fmtPhone(c.phone)}` : ""}`,
  qr: () => "Esperando que escanees el código QR",
  disconnected: (c) => c.detail || "Sin sesión de WhatsApp: los mensajes salientes esperan",
  error: (c) => c.detail || "WhatsApp no responde como debería",
};

/** A QR-looking picture of `payload` (it is a simulation: nothing to scan). */
export function fakeQr(payload, size = 25) {
  let h = 2166136261;
  const bits = [];
  for (let i = 0; i < size * size; i++) {
    h ^= payload.charCodeAt(i % payload.length) + i;
    h = Math.imul(h, 16777619) >>> 0;
    bits.push(h & 1);
  }
  // The three corner squares that make it read as a QR; null outside them.
  const finderOn = (x, y) => {
    for (const [fx, fy] of [[0, 0], [size - 7, 0], [0, size - 7]]) {
      const dx = x - fx;
      const dy = y - fy;
      if (dx >= 0 && dy >= 0 && dx <= 6 && dy <= 6) {
        const ring = Math.max(Math.abs(dx - 3), Math.abs(dy - 3));
        return ring !== 2;
      }
    }
    return null;
  };
  const cells = [];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const f = finderOn(x, y);
      if (f === true || (f === null && bits[y * size + x])) cells.push(`M${x} ${y}h1v1h-1z`);
    }
  }
  return ui.h("svg:svg", { class: "ib-qr", viewBox: `-2 -2 ${size + 4} ${size + 4}`, role: "img", "aria-label": "Código QR (simulado)" },
    ui.h("svg:rect", { x: "-2", y: "-2", width: String(size + 4), height: String(size + 4), fill: "#fff" }),
    ui.h("svg:path", { d: cells.join(""), fill: "#111" }));
}

export function connectorCard(root, { rv, tenant, simulator }) {
  const chipSlot = root.querySelector("#wa-chip");
  const detail = root.querySelector("#wa-detail");
  const qrSlot = root.querySelector("#wa-qr");
  const sim = root.querySelector("#sim");
  let current = null;
  let offline = false;

  const render = (c) => {
    const s = c ? c.state : "disconnected";
    root.dataset.state = offline ? "unknown" : s;
    chipSlot.replaceChildren(offline
      ? ui.chip("unknown", { label: "Desconocido", kind: "neutral" })
      : ui.chip(s, { large: false }));
    detail.textContent = offline
      ? `Sin conexión con el servidor: estado desconocido (último: ${ui.statusLabel(s)}${c?.since ? `, ${ui.timeAgo(c.since)}` : ""})`
      : (DETAIL[s] || DETAIL.disconnected)(c || {});
    qrSlot.hidden = s !== "qr" || !c?.qr;
    if (!qrSlot.hidden) {
      qrSlot.replaceChildren(fakeQr(c.qr), ui.h("div", { class: "small muted" },
        "Abre WhatsApp › Dispositivos vinculados › Vincular. ", simulator ? ui.h("b", "(Simulado: se escanea solo en unos segundos.)") : ""));
    }
    if (simulator) {
      const cloud = c?.provider === "cloud"; // the real WhatsApp: no simulated session to drive
      root.querySelector("#sim-scan").hidden = cloud || s !== "qr";
      root.querySelector("#sim-qr").hidden = cloud || s === "qr";
      root.querySelector("#sim-disconnect").hidden = cloud || s === "disconnected";
    }
  };

  rv.live("inbox_connector", { tenant }, {
    onChange: (rows, change) => {
      const c = rows.get(tenant) || null;
      const before = current?.state;
      current = c;
      render(c);
      if (change.type === "snapshot" || !c || before === c.state) return;
      ui.flash(root);
      if (c.state === "authenticated") ui.toast("WhatsApp conectado. Los mensajes pendientes salen ahora.", { kind: "success" });
      if (c.state === "disconnected") ui.toast(c.detail || "WhatsApp se desconectó.", { kind: "warning", title: "WhatsApp desconectado" });
      if (c.state === "error") ui.toast(c.detail || "Error de conexión con WhatsApp.", { kind: "danger", title: "WhatsApp con error" });
      if (c.state === "qr") ui.announce("WhatsApp espera que escanees el código QR");
    },
  });
  render(null);
  ui.bindStale(root, rv, { onChange: (stale) => { offline = stale; render(current); } });

  if (!simulator) return;
  sim.hidden = false;
  const run = (button, what, body) => ui.busy(button, api(`/api/inbox/sim/${what}`, { method: "POST", body })).catch((err) =>
    ui.toast(errorText(err), { kind: "danger", title: "Simulador" }));
  const btn = (id) => root.querySelector(id);
  btn("#sim-incoming").addEventListener("click", (e) => run(e.currentTarget, "incoming", {}));
  btn("#sim-qr").addEventListener("click", (e) => run(e.currentTarget, "qr"));
  btn("#sim-scan").addEventListener("click", (e) => run(e.currentTarget, "scan"));
  btn("#sim-disconnect").addEventListener("click", (e) => run(e.currentTarget, "disconnect"));
}
