/** Helpers for pages (browser only): polling while the tab is visible, and a
 * connection indicator. */

/** Call `fn` every `intervalMs` while the tab is visible: paused while
 * `document.hidden`, run at once when the tab shows again, never overlapping
 * itself. Returns {now(), stop()}. For slow dashboards, not for live data. */
export function poll(fn, intervalMs, { immediate = true } = {}) {
  let timer = null;
  let running = false;
  let stopped = false;
  const run = async () => {
    if (running || stopped) return;
    running = true;
    try {
      await fn();
    } catch (err) {
      console.error("relevo.poll:", err);
    } finally {
      running = false;
    }
  };
  const schedule = () => {
    clearInterval(timer);
    timer = stopped || document.hidden ? null : setInterval(run, intervalMs);
  };
  const onVisibility = () => {
    if (!document.hidden) run();
    schedule();
  };
  document.addEventListener("visibilitychange", onVisibility);
  if (immediate && !document.hidden) run();
  schedule();
  const stop = () => {
    stopped = true;
    clearInterval(timer);
    document.removeEventListener("visibilitychange", onVisibility);
  };
  return { now: run, stop };
}

// Zero-specificity defaults; the UI kit (/static/ui/ui.css) styles the same classes.
const INDICATOR_CSS = `
:where(.conn){display:inline-flex;align-items:center;gap:.45em;white-space:nowrap}
:where(.conn-dot){width:.6em;height:.6em;border-radius:50%;flex:none;background:var(--danger-dot,#e5484d)}
:where(.conn[data-state=connected] .conn-dot){background:var(--success-dot,#22a455)}
:where(.conn[data-state=connecting] .conn-dot){background:var(--warning-dot,#f28c18);animation:relevo-pulse 1s infinite}
@keyframes relevo-pulse{50%{opacity:.35}}
@media (prefers-reduced-motion:reduce){:where(.conn-dot){animation:none}}`;

export const LABELS = {
  connected: "Conectado",
  connecting: "Reconectando…",
  disconnected: "Sin conexión",
  first: "Conectando…", // connecting, never connected yet
};

/** Show `client`'s connection state in `element`: a green / amber / red dot and a
 * Spanish label (the UI kit's `.conn` markup), `data-state` set to the state.
 * Returns a function that stops following. */
export function indicator(element, client, { labels = LABELS } = {}) {
  if (!document.getElementById("relevo-indicator-css")) {
    const style = Object.assign(document.createElement("style"), { id: "relevo-indicator-css" });
    style.textContent = INDICATOR_CSS;
    document.head.prepend(style); // first, so any page stylesheet wins
  }
  const dot = Object.assign(document.createElement("span"), { className: "conn-dot" });
  const label = Object.assign(document.createElement("span"), { className: "conn-label" });
  dot.setAttribute("aria-hidden", "true");
  element.classList.add("conn");
  element.setAttribute("role", "status");
  element.setAttribute("aria-live", "polite");
  element.replaceChildren(dot, label);
  const render = (state, s) => {
    const text = state === "connecting" && !s.everConnected ? labels.first : labels[state];
    element.dataset.state = state;
    label.textContent = text;
    element.title = `Conexión en tiempo real: ${text}${s.reason && state !== "connected" ? ` (${s.reason})` : ""}`;
  };
  render(client.state, client.status);
  return client.on("state", render);
}
