// Attention outside the tab: a sound, a desktop notification (the browser's
// Notification API) and a count in the tab title, for events a user must not
// miss while working in another window. Off by default, per user: the user
// turns it on from a button, after a clear prompt, and the choice is kept
// (localStorage) for that user on this browser.
//
//   import { attention } from "/static/ui/attention.js";
//   const alerts = attention({ key: `leads.${me}`, what: "un lead derivado a ti" });
//   toolbar.append(alerts.button);
//   alerts.count(3);                                  // "(3) Mis leads · Asesor"
//   alerts.notify("Nuevo lead", "Rosa Quispe · 987654321", { tag: "lead-12" });

import { h, icon } from "./dom.js";
import { toast } from "./feedback.js";
import { confirm } from "./overlay.js";

const supported = () => typeof window.Notification === "function";

/** A short two-tone chime on the Web Audio API (no file to load). */
function chime(ctx) {
  if (!ctx) return;
  const now = ctx.currentTime;
  for (const [i, freq] of [880, 1320].entries()) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, now + i * 0.16);
    gain.gain.exponentialRampToValueAtTime(0.25, now + i * 0.16 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.16 + 0.15);
    osc.connect(gain).connect(ctx.destination);
    osc.start(now + i * 0.16);
    osc.stop(now + i * 0.16 + 0.16);
  }
}

/** body[data-chimes] / body[data-notifications]: how many so far (tests read them). */
function bump(what) {
  document.body.dataset[what] = String(Number(document.body.dataset[what] || 0) + 1);
}

/**
 * attention({key, what, storage, id}) → {button, enabled, enable(), disable(), count(n), notify(title, body, {tag})}
 *
 * key: who and which app ("leads.4"): the choice is kept per user.
 * id: the toggle button's id, if the page needs one.
 * what: the events, in Spanish, for the prompt ("un lead derivado a ti").
 * notify() plays the chime and, when the browser allows notifications and
 * the person is away from the tab (hidden or unfocused), shows one; with
 * attention off it does nothing. count(n) puts "(n)" before
 * the page's title (0: the plain title).
 */
export function attention({ key, what = "algo nuevo para ti", storage = localStorage, id = null } = {}) {
  const storeKey = `relevo.attention.${key}`;
  const baseTitle = document.title;
  let audio = null;
  const on = () => storage.getItem(storeKey) === "on";

  const label = h("span");
  const button = h("button", { type: "button", class: "btn attention-toggle", id, "aria-pressed": "false" }, icon("bell"), label);
  const render = () => {
    const enabled = on();
    button.setAttribute("aria-pressed", String(enabled));
    button.dataset.state = enabled ? "on" : "off";
    label.textContent = enabled ? "Avisos activados" : "Activar avisos";
    button.title = enabled
      ? "Sonido y notificación de escritorio activados. Clic para desactivarlos."
      : "Recibe un sonido y una notificación de escritorio aunque estés en otra pestaña.";
  };

  function unlockAudio() {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!audio && Ctx) audio = new Ctx();
    if (audio && audio.state === "suspended") audio.resume().catch(() => {});
  }

  async function enable() {
    unlockAudio(); // inside the click: browsers allow sound after a gesture
    const ok = await confirm({
      name: "ui-attention",
      title: "¿Activar avisos en el escritorio?",
      message: `Te avisaremos con un sonido y una notificación del sistema cuando llegue ${what}, aunque estés en otra pestaña o ventana. Tu navegador te pedirá permiso para mostrar notificaciones. Puedes desactivarlos cuando quieras con este mismo botón.`,
      confirmLabel: "Activar avisos",
      cancelLabel: "Ahora no",
    });
    if (!ok) return false;
    let permission = supported() ? Notification.permission : "denied";
    if (permission === "default") permission = await Notification.requestPermission();
    storage.setItem(storeKey, "on");
    render();
    if (permission !== "granted") {
      toast("El navegador no permite notificaciones para esta página: solo sonará el aviso. Puedes permitirlas en la configuración del sitio.", { kind: "warning", title: "Notificaciones bloqueadas", timeout: 9000 });
    } else {
      toast("Te avisaremos aunque estés en otra pestaña.", { kind: "success", title: "Avisos activados" });
    }
    return true;
  }

  function disable() {
    storage.setItem(storeKey, "off");
    render();
  }

  button.addEventListener("click", () => (on() ? disable() : enable()));
  // Audio needs a gesture on each page load: the first click or key anywhere unlocks it.
  const unlockOnce = () => { if (on()) unlockAudio(); };
  document.addEventListener("pointerdown", unlockOnce, { once: true, capture: true });
  document.addEventListener("keydown", unlockOnce, { once: true, capture: true });
  render();

  return {
    button,
    get enabled() { return on(); },
    enable,
    disable,
    count(n) {
      document.title = n > 0 ? `(${n}) ${baseTitle}` : baseTitle;
    },
    notify(title, body = "", { tag } = {}) {
      if (!on()) return null;
      chime(audio);
      bump("chimes");
      // The desktop notification only while the person is elsewhere: in
      // front of the page, the page itself shows what changed.
      const away = document.visibilityState !== "visible" || !document.hasFocus();
      if (!away || !supported() || Notification.permission !== "granted") return null;
      try {
        const n = new Notification(title, { body, tag, lang: "es" });
        n.onclick = () => { window.focus(); n.close(); };
        bump("notifications");
        return n;
      } catch (_) {
        return null; // some browsers show notifications only from a service worker: the sound stays
      }
    },
  };
}
