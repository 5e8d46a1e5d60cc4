// The vendor's phone: today's plantilla, one big V per product. The rows are
// a live query (cargue:<me>); a tick goes through the outbox, so it survives
// a dead network, a closed tab and a server restart. The page holds
// vendedor:<me>, so the dispatcher sees the vendor online, and follows the
// day's closing: once the dispatcher closes it, every V is locked.

import * as ui from "/static/ui/ui.js";
import { quantityText } from "./cantidades.js";
import { closedText } from "./cierre.js";
import { TickOutbox } from "./outbox.js";
import {
  api, byOrder, connect, dayLabel, errorText, getConfig, requireSession, token, tokenSource, topbar,
} from "./common.js";

const SCREEN = "vendedor";
const $ = (id) => document.getElementById(id);
const list = $("items");
const banner = $("offline");
const view = { rows: new Map(), els: new Map(), filter: "todos", loaded: false, dRows: new Set(), cierre: null };
const dayClosed = () => view.cierre?.state === "cerrado";

/** What the screen shows for V: the user's unsent wish, else the server's row. */
function shownV(row) {
  const wish = outbox.wish(row.id);
  return wish === undefined ? Boolean(row.v) : wish;
}

// -- rows ------------------------------------------------------------------------------

function itemEl(row) {
  const tick = ui.h("button", { type: "button", class: "tick cg-tick", onclick: () => toggle(row.id) }, "V");
  const el = ui.h("li", { class: "cg-item", "data-id": row.id },
    ui.h("div", { class: "cg-info" },
      ui.h("div", { class: "cg-name" }),
      ui.h("div", { class: "cg-sub" })),
    ui.h("div", { class: "cg-qty" }, ui.h("b"), ui.h("small")),
    ui.h("span", { class: "cg-mini cg-mini-d", title: "Despachado (D)" }, "D"),
    tick);
  return el;
}

function paint(el, row) {
  const v = shownV(row);
  const pending = outbox.has(row.id);
  const closed = row.state === "despachado";
  el.dataset.state = row.state;
  el.dataset.v = String(v);
  el.dataset.d = String(Boolean(row.d));
  el.toggleAttribute("data-pending", pending);
  el.querySelector(".cg-name").textContent = row.producto;
  el.querySelector(".cg-sub").replaceChildren(
    row.codigo ? ui.h("span", { class: "tag" }, row.codigo) : "",
    pending ? ui.h("span", { class: "cg-pending" }, ui.icon("clock"), outbox.failing ? "Por enviar" : "Enviando…") : "",
    !pending && closed ? ui.h("span", { class: "cg-closed-note" }, `Despachado${row.d_nombre ? ` · ${row.d_nombre}` : ""}${row.d_at ? ` ${ui.fmtTime(row.d_at)}` : ""}`) : "",
    quantityText(row) ? ui.h("span", { class: "cg-diff" }, quantityText(row)) : "");
  el.querySelector(".cg-qty b").textContent = ui.fmtNumber(row.cantidad ?? 0);
  el.querySelector(".cg-qty small").textContent = row.unidad || "";
  const tick = el.querySelector(".cg-tick");
  tick.setAttribute("aria-pressed", String(v));
  tick.disabled = (closed || dayClosed()) && !pending;
  const what = v ? "marcado" : "sin marcar";
  tick.setAttribute("aria-label", `V ${row.producto}: ${what}${closed ? ", despachado" : ""}${pending ? ", pendiente de envío" : ""}`);
  el.hidden = (view.filter === "faltan" && v) || (view.filter === "marcados" && !v);
}

function render() {
  const rows = [...view.rows.values()].sort(byOrder);
  if (!view.loaded) return;
  list.removeAttribute("aria-busy");
  for (const skel of list.querySelectorAll(".cg-skel")) skel.remove();
  let prev = null;
  for (const row of rows) {
    let el = view.els.get(row.id);
    if (!el) {
      el = itemEl(row);
      view.els.set(row.id, el);
    }
    paint(el, row);
    const want = prev ? prev.nextElementSibling : list.firstElementChild;
    if (want !== el) list.insertBefore(el, want);
    prev = el;
  }
  for (const [id, el] of view.els) {
    if (!view.rows.has(id)) {
      el.remove();
      view.els.delete(id);
    }
  }
  summary(rows);
}

function summary(rows) {
  const total = rows.length;
  const v = rows.filter(shownV).length;
  const d = rows.filter((r) => r.d).length;
  $("count-v").textContent = String(v);
  $("count-total").textContent = String(total);
  $("bar-v").style.setProperty("--value", `${total ? (100 * v) / total : 0}%`);
  $("count-d").textContent = `${d} de ${total} despachados`;
  $("left").textContent = total === 0 ? "" : dayClosed() ? "Cargue cerrado" : v === total ? "Todo verificado" : `Faltan ${total - v}`;
  $("next").disabled = v === total || dayClosed();
  const empty = $("empty");
  empty.hidden = total > 0;
  if (total === 0) {
    empty.replaceChildren(ui.emptyState({ icon: "truck", title: "Sin plantilla para hoy",
      text: "Cuando el despacho cargue tu plantilla aparecerá aquí, sin recargar." }));
  } else if (!rows.some((r) => !(view.filter === "faltan" ? shownV(r) : view.filter === "marcados" ? !shownV(r) : false))) {
    empty.hidden = false;
    empty.replaceChildren(ui.emptyState({ icon: "check", small: true,
      title: view.filter === "faltan" ? "¡No falta nada!" : "Aún no marcaste ninguno" }));
  }
}

function network() {
  const offline = navigator.onLine === false || outbox.failing || (rv.state !== "connected" && rv.everConnected);
  const n = outbox.size;
  banner.hidden = !offline && !outbox.authExpired;
  // stick under the top bar (its height varies on a phone)
  banner.style.top = `${document.querySelector("header.topbar")?.offsetHeight || 0}px`;
  if (outbox.authExpired) {
    banner.textContent = `Tu sesión venció: vuelve a entrar. ${n ? `${n} marca${n > 1 ? "s" : ""} siguen guardadas en este teléfono.` : ""}`;
  } else if (offline) {
    banner.replaceChildren(ui.h("b", "Sin conexión. "),
      n ? `${n} marca${n > 1 ? "s" : ""} por enviar: quedan guardadas en este teléfono y se envían solas al volver la señal.`
        : "Tus marcas se guardan en este teléfono y se envían solas al volver la señal.");
  }
  $("sync-note").textContent = n && !offline ? `Enviando ${n}…` : "";
}

// -- actions ----------------------------------------------------------------------------

function toggle(id) {
  const row = view.rows.get(id);
  if (!row) return;
  if (dayClosed() && !outbox.has(id)) {
    ui.toast("El cargue de hoy ya está cerrado: no admite más marcas.", { kind: "warning" });
    return;
  }
  if (row.state === "despachado" && !outbox.has(id)) {
    ui.toast("El despacho ya marcó D en este producto.", { kind: "warning" });
    return;
  }
  const value = !shownV(row);
  if (navigator.vibrate) navigator.vibrate(15);
  outbox.set(id, value);
  render();
}

function nextUnchecked() {
  const row = [...view.rows.values()].sort(byOrder).find((r) => !shownV(r));
  const el = row && view.els.get(row.id);
  if (!el) return;
  if (el.hidden) {
    view.filter = "todos";
    document.querySelector('#filter [data-value="todos"]').click();
  }
  el.scrollIntoView({ behavior: "smooth", block: "center" });
  el.querySelector(".cg-tick").focus({ preventScroll: true });
  ui.flash(el);
}

// -- start ------------------------------------------------------------------------------

const session = requireSession(SCREEN, ["vendedor"]);
let rv;
let outbox;

async function main() {
  const config = await getConfig();
  rv = connect(SCREEN, session, config);
  topbar(SCREEN, session, rv, { role: "Vendedor" });
  ui.hydrateIcons(document.body);
  $("day").textContent = `Hoy · ${dayLabel(config)}`;
  $("who").textContent = session.name;
  const fresh = tokenSource(SCREEN, session, config);
  outbox = new TickOutbox(`relevo.cargue.pending.${session.user}`,
    (id, value) => api(`/api/cargue/items/${encodeURIComponent(id)}/check`, { method: "POST", body: { check: "v", value }, token: token(SCREEN) }),
    {
      refresh: fresh ? async () => Boolean(await fresh()) : null,
      on: {
        sent: (id, row) => {
          view.rows.set(row.id, { ...view.rows.get(row.id), ...row });
          render();
        },
        failed: (id, err, value) => {
          const row = view.rows.get(id);
          ui.toast(errorText(err), { kind: "danger", title: `No se guardó ${value ? "la" : "el retiro de la"} V${row ? `: ${row.producto}` : ""}` });
          render();
        },
        state: () => {
          network();
          if (view.loaded) render();
        },
      },
    });
  rv.on("state", () => {
    network();
    if (rv.state === "connected") outbox.flush();
  });
  addEventListener("offline", network);
  addEventListener("online", network);
  ui.segmented($("filter"), (value) => {
    view.filter = value;
    render();
  });
  $("next").addEventListener("click", nextUnchecked);
  api("/api/cargue/me", { token: token(SCREEN) }).then((me) => {
    if (me.ruta) $("ruta").textContent = me.ruta;
    if (me.nombre) $("who").textContent = me.nombre;
  }).catch(() => {});
  rv.subscribe(`vendedor:${session.user}`, () => {}); // tells the dispatcher this vendor is online
  rv.live("cargue_cierre", { vendedor_id: session.user, fecha: config.fecha }, {
    onChange: (rows, change) => {
      const was = dayClosed();
      view.cierre = [...rows.values()][0] || null;
      const box = $("closed");
      box.hidden = !dayClosed();
      if (dayClosed()) box.replaceChildren(ui.icon("lock"), ui.h("div", ui.h("b", `${closedText(view.cierre)}. `), "Ya no se pueden marcar productos."));
      if (change?.type === "update" && was !== dayClosed()) {
        ui.announce(dayClosed() ? "El despacho cerró el cargue de hoy." : "El cargue de hoy se reabrió.");
        ui.toast(dayClosed() ? "El despacho cerró el cargue de hoy." : "El cargue de hoy se reabrió: ya puedes marcar.", { kind: dayClosed() ? "info" : "warning" });
      }
      render();
    },
  });
  rv.live("cargue_item", { vendedor_id: session.user, fecha: config.fecha }, {
    onChange: (rows, change) => {
      view.rows = new Map(rows);
      view.loaded = true;
      render();
      if (change.type !== "update") return;
      const el = view.els.get(change.id);
      const before = change.previous || {};
      if (el && !outbox.has(change.id)) ui.flash(el);
      if (!before.d && change.row.d) ui.announce(`Despacho confirmó ${change.row.producto}`);
      if (before.d && !change.row.d) {
        ui.toast(`El despacho desmarcó D: ${change.row.producto}.`, { kind: "warning" });
      }
      const all = [...view.rows.values()];
      if (all.length && all.every((r) => r.d) && !before.d && change.row.d) {
        ui.toast("Todo tu cargue quedó despachado.", { kind: "success", title: "¡Listo!" });
      }
    },
    onError: (err) => {
      list.removeAttribute("aria-busy");
      list.replaceChildren(ui.h("li", { class: "alert alert-danger" }, ui.icon("danger"), ui.h("div", errorText(err))));
    },
  });
  network();
  if (outbox.size) outbox.flush();
  window.__cargueReady = true;
}

if (session) {
  main().catch((err) => {
    list.replaceChildren(ui.h("li", { class: "alert alert-danger" }, ui.icon("danger"), ui.h("div", `No se pudo cargar: ${err.message}`)));
  });
}
