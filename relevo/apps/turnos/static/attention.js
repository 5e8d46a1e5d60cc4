// Attention outside the tab: a sound, a desktop notification and a count in
// the tab title when something new needs the person (a new ticket in an
// operator's queue). A minimal version kept with turnos until the UI kit's
// /static/ui/attention.js is on main; the same idea, the same defaults:
//
//   - off by default, per user (localStorage), switched on with a button
//     that says what it does before the browser asks for the permission;
//   - the notification only while the tab is hidden or not focused (the
//     page itself shows the change otherwise); the sound always, once on;
//   - the count in the title always: "(3) Turnos · Mesa 1".
//
// body[data-notifications] counts the notifications shown (for tests).

import * as ui from "/static/ui/ui.js";
import { chime, unlockAudio } from "./common.js";

/**
 * attention({key, button, prompt}) → {setCount(n), notify({title, body, tag}), enabled()}
 *   key:    where the choice is remembered (add the user: "turnos.operador.carla");
 *   button: the toggle (its text and aria-pressed are kept);
 *   prompt: the sentence shown before the browser's own question.
 */
export function attention({ key, button, prompt }) {
  const storeKey = `relevo.attention.${key}`;
  const base = document.title;
  let on = localStorage.getItem(storeKey) === "1";
  const supported = "Notification" in window;

  const paint = () => {
    button.setAttribute("aria-pressed", String(on));
    button.querySelector(".att-label").textContent = on ? "Avisos activados" : "Activar avisos";
    button.title = on ? "Sonido y notificación con cada turno nuevo (pulse para desactivar)" : "Avisarme con sonido y notificación";
  };

  async function enable() {
    unlockAudio(); // a click: the browser lets audio start now
    if (supported && Notification.permission === "default") {
      const ok = await ui.confirm({ title: "Avisos de turnos nuevos", message: prompt, confirmLabel: "Activar avisos" });
      if (!ok) return false;
      await Notification.requestPermission();
    }
    if (supported && Notification.permission === "denied") {
      ui.toast("El navegador bloqueó las notificaciones de esta página: solo sonará el aviso.", { kind: "warning" });
    }
    return true;
  }

  button.addEventListener("click", async () => {
    if (on) on = false;
    else on = await enable();
    localStorage.setItem(storeKey, on ? "1" : "0");
    paint();
    button.focus();
  });
  paint();

  return {
    enabled: () => on,
    setCount(n) {
      document.title = n > 0 ? `(${n}) ${base}` : base;
    },
    notify({ title, body, tag }) {
      if (!on) return;
      chime();
      const away = document.visibilityState !== "visible" || !document.hasFocus();
      if (!away || !supported || Notification.permission !== "granted") return;
      try {
        const n = new Notification(title, { body, tag, lang: "es" });
        n.onclick = () => { window.focus(); n.close(); };
        document.body.dataset.notifications = String(Number(document.body.dataset.notifications || 0) + 1);
      } catch (_) {
        // some browsers allow notifications only from a service worker: the sound stays
      }
    },
  };
}
