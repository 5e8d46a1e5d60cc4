// WhatsApp Cloud API on the page: "Comprobar" (ask WhatsApp how the
// connection is, for everyone), "Configurar" (a supervisor's dialog: ids and
// secrets; the secrets are never shown back, only ••••1234), the template
// picker (outside the 24-hour window) and attachments (fetched with the
// agent's token, shown from a blob URL).

import * as ui from "/static/ui/ui.js";
import { api, authHeader, errorText } from "./common.js";

const FIELDS = [
  ["phone_number_id", "Identificador del número (Phone number ID)", "text", "106540352242922"],
  ["waba_id", "Identificador de la cuenta (WhatsApp Business Account ID)", "text", "102290129340398"],
  ["access_token", "Token de acceso (usuario del sistema)", "password", "EAAG…"],
  ["app_secret", "Clave secreta de la app (App secret)", "password", ""],
  ["verify_token", "Token de verificación del webhook", "password", "una frase que tú eliges"],
];

/** The connector card's buttons: Comprobar (all), Configurar (supervisors). */
export function cloudControls(root, { supervisor }) {
  const box = root.querySelector("#wa-cloud");
  box.hidden = false;
  const check = box.querySelector("#wa-check");
  check.addEventListener("click", () => ui.busy(check, api("/api/inbox/whatsapp/check", { method: "POST" }))
    .then((c) => ui.toast(c.state === "authenticated" ? "WhatsApp responde: conexión correcta." : c.detail || "WhatsApp no está conectado.",
      { kind: c.state === "authenticated" ? "success" : "warning" }))
    .catch((err) => ui.toast(errorText(err), { kind: "danger" })));
  const configure = box.querySelector("#wa-configure");
  configure.hidden = !supervisor;
  if (supervisor) configure.addEventListener("click", () => settingsDialog().catch((err) => ui.toast(errorText(err), { kind: "danger" })));
}

async function settingsDialog() {
  const { settings } = await api("/api/inbox/whatsapp");
  const inputs = {};
  const rows = FIELDS.map(([name, label, type, placeholder]) => {
    const hint = settings[`${name}_hint`];
    inputs[name] = ui.h("input", { class: "input", id: `wa-${name}`, name, type, autocomplete: "off", value: type === "text" ? settings[name] || "" : "",
      placeholder: hint ? `Guardado: ${hint} (déjalo vacío para conservarlo)` : placeholder });
    return ui.h("div", { class: "field" }, ui.h("label", { for: `wa-${name}` }, label), inputs[name]);
  });
  const webhook = `${location.origin}${settings.webhook_path}`;
  const save = ui.h("button", { type: "submit", class: "btn btn-primary", id: "wa-save" }, "Guardar y comprobar");
  const form = ui.h("form", { class: "stack", id: "wa-form" },
    ui.h("p", { class: "small muted" }, "Los datos salen de developers.facebook.com › tu app › WhatsApp › Configuración de la API. ",
      "URL del webhook para Meta: ", ui.h("code", { id: "wa-webhook" }, webhook)),
    rows, ui.h("div", { class: "dialog-footer" }, save));
  const d = ui.dialog({ name: "inbox-cloud", title: "Conexión con WhatsApp Cloud API", body: form, wide: true });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = {};
    for (const [name, input] of Object.entries(inputs)) if (input.value.trim()) body[name] = input.value.trim();
    try {
      const out = await ui.busy(save, api("/api/inbox/whatsapp", { method: "PUT", body }));
      d.close(true);
      const ok = out.connector.state === "authenticated";
      ui.toast(ok ? "Guardado: WhatsApp responde." : out.connector.detail, { kind: ok ? "success" : "warning", title: "Conexión con WhatsApp" });
    } catch (err) {
      if (err.body?.field && inputs[err.body.field]) inputs[err.body.field].setAttribute("aria-invalid", "true");
      ui.toast(errorText(err), { kind: "danger" });
    }
  });
}

/** Choose one of the account's approved templates and send it in `convId`. */
export async function pickTemplate(convId) {
  const { templates } = await api("/api/inbox/templates");
  if (!templates.length) {
    ui.toast("La cuenta no tiene plantillas aprobadas. Créalas en el Administrador de WhatsApp de Meta.", { kind: "warning" });
    return;
  }
  const d = ui.dialog({
    name: "inbox-template",
    title: "Enviar una plantilla",
    body: ui.h("div", { class: "stack" },
      ui.h("p", { class: "small muted" }, "Fuera de la ventana de 24 horas WhatsApp solo permite plantillas aprobadas."),
      ui.h("ul", { class: "list ib-templates" }, templates.map((t) => ui.h("li", { class: "ib-template" },
        ui.h("div", { class: "grow" }, ui.h("div", { class: "strong" }, t.name, ui.h("span", { class: "muted small" }, ` · ${t.language}`)),
          ui.h("div", { class: "small" }, t.text || "")),
        ui.h("button", { type: "button", class: "btn btn-sm btn-primary", "data-template": t.name, onclick: () => d.close(t) }, "Enviar"))))),
  });
  const pick = await d.result;
  if (!pick) return;
  try {
    await api(`/api/inbox/conversations/${encodeURIComponent(convId)}/template`, { method: "POST", body: { name: pick.name, language: pick.language } });
  } catch (err) {
    ui.toast(errorText(err), { kind: "danger", title: "No se envió la plantilla" });
  }
}

const mediaUrls = new Map();

/** The attachment of message `m` (an image, audio or a download link). */
export function mediaView(m) {
  const md = m.media;
  if (md.error) return ui.h("div", { class: "ib-media ib-media-error small" }, ui.icon("alert", { size: 13 }), md.error);
  const box = ui.h("div", { class: "ib-media", "data-media": md.type });
  const url = mediaUrls.get(m.id) || fetch(`/api/inbox/messages/${encodeURIComponent(m.id)}/media`, { headers: authHeader() })
    .then((res) => (res.ok ? res.blob() : Promise.reject(new Error(String(res.status)))))
    .then((blob) => URL.createObjectURL(blob));
  mediaUrls.set(m.id, url);
  url.then((src) => {
    const name = md.filename || (md.type === "image" ? "imagen" : md.type === "audio" ? "audio" : "documento");
    if (md.type === "image") box.replaceChildren(ui.h("img", { src, alt: m.text || "Imagen del cliente", class: "ib-media-img" }));
    else if (md.type === "audio") box.replaceChildren(ui.h("audio", { src, controls: true, "aria-label": "Audio del cliente" }));
    else box.replaceChildren(ui.h("a", { href: src, download: name, class: "btn btn-sm" }, ui.icon("external", { size: 13 }), `Descargar ${name}`));
  }).catch(() => box.replaceChildren(ui.h("span", { class: "small muted" }, "No se pudo cargar el archivo.")));
  return box;
}
