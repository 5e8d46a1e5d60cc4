// The live demo page: subscribe to demo:<room>, show what arrives, publish,
// see who is here. Everything real-time goes through /relevo.js.
//
// URL parameters: ?room=lobby&token=<JWT>&transport=sse (all optional; the
// room and token are also remembered in localStorage).

import * as relevo from "/relevo.js";

const $ = (id) => document.getElementById(id);
const MAX_ITEMS = 200;
const params = new URLSearchParams(location.search);

const state = { rv: null, sub: null, channel: "", token: "", received: 0, resets: 0, recovered: 0 };
const presence = new Map(); // client id -> user

function remember(key, value) {
  try {
    if (value) localStorage.setItem(`relevo-demo:${key}`, value);
    else localStorage.removeItem(`relevo-demo:${key}`);
  } catch (_) {
    // private mode: nothing to remember
  }
}

function recall(key) {
  try {
    return localStorage.getItem(`relevo-demo:${key}`) || "";
  } catch (_) {
    return "";
  }
}

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children.filter((c) => c != null));
  return node;
}

function timeOf(ts) {
  return new Date(ts || Date.now()).toLocaleTimeString("es", { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

function notice(kind, text, key) {
  const box = $("notices");
  const old = key && box.querySelector(`[data-key="${key}"]`);
  if (old) old.remove();
  const close = el("button", { type: "button", className: "btn btn-ghost btn-sm", textContent: "Cerrar" });
  const body = el("span", { className: "spacer", textContent: text });
  const item = el("div", { className: `alert alert-${kind}` }, body, close);
  if (key) item.dataset.key = key;
  close.addEventListener("click", () => item.remove());
  box.prepend(item);
}

function announce(text) {
  const region = $("announcer");
  region.textContent = "";
  setTimeout(() => (region.textContent = text), 50); // a change screen readers notice
}

// -- the feed -------------------------------------------------------------------------

function renderPublication(pub) {
  const data = pub.data;
  const text = data && typeof data === "object" && typeof data.texto === "string" ? data.texto : null;
  const item = el("li", { className: "pub flash" },
    el("div", { className: "pub-head" },
      el("span", { className: "chip chip-info no-dot mono", textContent: pub.ev }),
      el("span", { className: "pub-off mono", textContent: `#${pub.off}` }),
      el("time", { className: "pub-time muted", dateTime: new Date(pub.ts).toISOString() }, timeOf(pub.ts))),
    text !== null ? el("p", { className: "pub-text", textContent: text }) : null,
    el("pre", { className: "pub-data mono", textContent: JSON.stringify(data, null, 1).replace(/\n\s*/g, " ") }));
  item.dataset.off = String(pub.off);
  item.dataset.ev = pub.ev;
  return item;
}

function addToFeed(item) {
  const feed = $("feed");
  feed.prepend(item);
  while (feed.children.length > MAX_ITEMS) feed.lastElementChild.remove();
  $("feed-empty").hidden = true;
}

function onPublication(pub) {
  state.received += 1;
  $("feed-count").textContent = String(state.received);
  addToFeed(renderPublication(pub));
  announce(`Nueva publicación ${pub.ev} en ${pub.ch}`);
}

function onReset() {
  state.resets += 1;
  document.body.dataset.resets = String(state.resets);
  addToFeed(el("li", { className: "pub-reset" }, "Historial reiniciado: lo anterior puede estar incompleto"));
  const text = "El canal perdió su historial (por ejemplo, el servidor se reinició): " +
    "lo publicado mientras no había conexión no se puede recuperar.";
  notice("warning", text, "reset");
}

function onRecovered({ missed }) {
  if (!missed) return;
  state.recovered += missed;
  document.body.dataset.recovered = String(state.recovered);
  const what = missed === 1 ? "publicación perdida" : "publicaciones perdidas";
  notice("info", `Reconectado: se recuperaron ${missed} ${what}.`, "recovered");
}

// -- presence -----------------------------------------------------------------------------

function renderPresence() {
  const users = new Map();
  for (const user of presence.values()) users.set(user, (users.get(user) || 0) + 1);
  const me = state.rv && state.rv.info && state.rv.info.user;
  const list = $("presence");
  list.replaceChildren(...[...users].sort().map(([user, n]) =>
    el("li", { className: "presence-item" },
      el("span", { className: "avatar", textContent: user.slice(0, 2), ariaHidden: "true" }),
      el("span", { className: "presence-name", textContent: user }),
      user === me ? el("span", { className: "tag", textContent: "tú" }) : null,
      n > 1 ? el("span", { className: "muted small", textContent: `${n} pestañas` }) : null)));
  const count = $("presence-count");
  count.dataset.count = String(users.size);
  count.textContent = users.size ? String(users.size) : "";
}

async function loadPresence() {
  if (!state.token || !state.rv) return;
  try {
    const result = await state.rv.presence(state.channel);
    presence.clear();
    for (const [client, info] of Object.entries(result.clients)) presence.set(client, info.user);
    $("presence-hint").hidden = true;
    renderPresence();
  } catch (err) {
    $("presence-hint").hidden = false;
    $("presence-hint").textContent = `No se puede ver la presencia: ${err.message}`;
  }
}

function onPresence(push) {
  if (push.ev === "$join") presence.set(push.data.client, push.data.user);
  else if (push.ev === "$leave") presence.delete(push.data.client);
  renderPresence();
}

// -- connecting -----------------------------------------------------------------------------

function connect(room, token) {
  if (state.rv) state.rv.close();
  presence.clear();
  renderPresence();
  state.token = token;
  state.channel = `demo:${room}`;
  const transport = params.get("transport");
  const rv = relevo.connect({ token, transports: transport ? [transport] : undefined });
  state.rv = rv;
  relevo.indicator($("indicator"), rv);
  rv.on("state", (s, status) => {
    $("transport").textContent = status.transport === "sse" ? "SSE" : "WebSocket";
    if (s === "connected") $("who").textContent = rv.info && rv.info.user ? `como ${rv.info.user}` : "anónimo";
  });
  state.sub = rv.subscribe(state.channel, onPublication, {
    onReset,
    onRecovered,
    onPresence,
    onSubscribed: loadPresence,
    onError: (err) => notice("danger", `No se pudo suscribir a ${state.channel}: ${err.message}`, "sub-error"),
  });
  window.demo = { rv, sub: state.sub, channel: state.channel }; // for the console and the tests

  $("channel-chip").textContent = state.channel;
  $("cli-publish").textContent = `relevo publish ${state.channel} mensaje '{"texto":"hola"}'`;
  $("publish-fields").disabled = !token;
  $("publish-needs-token").hidden = Boolean(token);
  $("presence-hint").hidden = false;
  $("presence-hint").textContent = token ? "Cargando…" : "Con un token verás quién más está en la sala.";
  remember("room", room);
  remember("token", token);
}

function submitConnect(event) {
  if (event) event.preventDefault();
  const room = $("room").value.trim() || "lobby";
  connect(room, $("token").value.trim());
}

async function submitPublish(event) {
  event.preventDefault();
  const error = $("publish-error");
  const dataInput = $("data");
  error.textContent = "";
  dataInput.removeAttribute("aria-invalid");
  let data;
  try {
    data = dataInput.value.trim() ? JSON.parse(dataInput.value) : null;
  } catch (err) {
    dataInput.setAttribute("aria-invalid", "true");
    error.textContent = "Los datos no son JSON válido.";
    return;
  }
  const button = $("publish");
  button.classList.add("is-busy");
  try {
    const { offset } = await state.rv.publish(state.channel, $("event").value.trim(), data);
    $("publish-result").textContent = `Publicado como #${offset}`;
  } catch (err) {
    error.textContent = err.code === "forbidden"
      ? "Este token no puede publicar en la sala."
      : `No se pudo publicar: ${err.message}`;
  } finally {
    button.classList.remove("is-busy");
  }
}

$("connect-form").addEventListener("submit", submitConnect);
$("anonymous").addEventListener("click", () => {
  $("token").value = "";
  submitConnect();
});
$("publish-form").addEventListener("submit", submitPublish);
$("publish-form").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) $("publish-form").requestSubmit();
});

$("room").value = params.get("room") || recall("room") || "lobby";
$("token").value = params.get("token") ?? recall("token");
submitConnect();
