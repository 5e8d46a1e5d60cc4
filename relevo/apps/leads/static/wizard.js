// The asesor's gestión wizard. Opening it takes the lead's lease (the server
// answers who has it when someone else does) and puts the lead en_gestion;
// while open it heartbeats, which keeps the lease and counts as activity;
// each step is saved; completing releases the lease and the lead leaves
// the asesor's list. If the lead is taken away (reassigned, timed out) the
// wizard closes at once and says why.

import * as ui from "/static/ui/ui.js";
import { api, errorText } from "./common.js";

const STEPS = ["Contacto", "Tipificación", "Próxima acción"];
const LOST = new Set(["locked", "conflict", "forbidden", "not_found"]);
const CALLBACK = "volver_a_llamar";

/** A datetime-local value (local time, minutes) for `ms`. */
function localInput(ms) {
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

function choices(name, options, value, { required = false } = {}) {
  return ui.h("div", { class: "choice-list", role: "radiogroup", "aria-required": String(required) },
    options.map((o) => ui.h("label", { class: "choice" },
      ui.h("input", { type: "radio", name, value: o.code, checked: o.code === value }),
      ui.h("span", null, o.label))));
}

function picked(root, name) {
  const el = root.querySelector(`input[name="${name}"]:checked`);
  return el ? el.value : null;
}

/**
 * openWizard(lead, ctx) → Promise<controller | null>
 * ctx: {config, tab, names, labels: {tip, res, acc}, onEnd(reason)}
 * controller: {id, update(row), gone(message), close()}
 */
export async function openWizard(lead, ctx) {
  let opened;
  try {
    opened = await api(`/api/leads/${encodeURIComponent(lead.id)}/open`, { method: "POST", body: { tab: ctx.tab } });
  } catch (err) {
    ui.toast(errorText(err, Object.fromEntries(ctx.names)), { kind: err.code === "locked" ? "warning" : "danger", title: "No se pudo abrir el lead" });
    return null;
  }
  const id = lead.id;
  let record = opened.record;
  let token = opened.lease.fencing_token;
  let step = Math.min(3, Math.max(1, record.wizard_step || 1));
  let ended = false;
  let beatFailures = 0;
  const values = {
    resultado_contacto: record.resultado_contacto || null,
    tipificacion: record.tipificacion || null,
    notas: record.notas || "",
    proxima_accion: record.proxima_accion || null,
  };
  let callbackAt = localInput(Date.now() + 3600_000);
  const scheduling = () => step === 3 && values.tipificacion === CALLBACK;
  const { config } = ctx;

  const stepper = ui.h("ol", { class: "steps", "aria-label": "Pasos" });
  const panel = ui.h("div", { class: "step-panel" });
  const error = ui.h("div", { class: "error", role: "alert" });
  const back = ui.h("button", { type: "button", class: "btn", onclick: () => go(step - 1) }, "Atrás");
  const next = ui.h("button", { type: "submit", class: "btn btn-primary", "data-action": "next" });
  const lockNote = ui.h("span", { class: "lock-note" }, ui.icon("lock"), "Bloqueado para ti mientras el wizard esté abierto");
  const head = ui.h("div", { class: "wizard-lead" },
    ui.h("div", { class: "row" },
      record.telefono ? ui.h("a", { class: "btn btn-sm", href: `tel:${record.telefono}` }, ui.icon("phone"), record.telefono) : null,
      ui.h("span", { class: "muted" }, [record.campana, record.fuente].filter(Boolean).join(" · ")),
      ui.h("span", { class: "spacer" }),
      ui.chip(record.state, { live: true })),
    lockNote);
  const form = ui.h("form", { class: "stack wizard" }, head, stepper, panel, error,
    ui.h("div", { class: "dialog-footer flush" },
      ui.h("button", { type: "button", class: "btn btn-ghost", "data-action": "close", onclick: () => finish("closed") }, "Cerrar sin terminar"),
      ui.h("span", { class: "spacer" }), back, next));
  const d = ui.dialog({ name: "leads-wizard", title: record.nombre, body: form, wide: true });
  d.el.classList.add("wizard-dialog");
  d.el.dataset.lead = id;

  function collect() {
    if (step === 1) values.resultado_contacto = picked(panel, "resultado_contacto");
    if (step === 2) {
      values.tipificacion = picked(panel, "tipificacion");
      values.notas = panel.querySelector("textarea").value.trim();
    }
    if (step === 3) {
      values.proxima_accion = picked(panel, "proxima_accion");
      const at = panel.querySelector("#wz-callback");
      if (at) callbackAt = at.value;
    }
  }

  function render() {
    stepper.replaceChildren(...STEPS.map((label, i) => ui.h("li", {
      class: [i + 1 < step && "done", i + 1 === step && "current"], "aria-current": i + 1 === step ? "step" : null,
    }, ui.h("span", { class: "step-n" }, String(i + 1)), label)));
    error.textContent = "";
    back.hidden = step === 1;
    next.replaceChildren(...(scheduling() ? [ui.icon("clock"), "Agendar llamada"] : step === 3 ? [ui.icon("check"), "Completar gestión"] : ["Siguiente"]));
    next.dataset.action = scheduling() ? "schedule" : step === 3 ? "complete" : "next";
    if (step === 1) {
      panel.replaceChildren(ui.h("h3", "¿Cómo resultó el contacto?"), choices("resultado_contacto", config.resultados, values.resultado_contacto, { required: true }));
    } else if (step === 2) {
      const notas = ui.h("textarea", { class: "input", id: "wz-notas", maxlength: 2000, placeholder: "Qué se habló con el cliente…" });
      notas.value = values.notas;
      panel.replaceChildren(ui.h("h3", "Tipificación"), choices("tipificacion", config.tipificaciones, values.tipificacion, { required: true }),
        ui.h("div", { class: "field" }, ui.h("label", { for: "wz-notas" }, "Notas"), notas, ui.h("div", { class: "hint" }, "Visibles para el GTR en el historial.")));
    } else {
      const L = ctx.labels;
      const when = scheduling()
        ? ui.h("div", { class: "field callback-field" },
          ui.h("label", { for: "wz-callback" }, "Volver a llamar el"),
          ui.h("input", { class: "input", type: "datetime-local", id: "wz-callback", value: callbackAt, min: localInput(Date.now() + 60_000), required: true }),
          ui.h("div", { class: "hint" }, "A esa hora el lead vuelve a tu lista como derivado (y te avisamos)."))
        : null;
      panel.replaceChildren(when || "", ui.h("h3", "Próxima acción"), choices("proxima_accion", config.proximas_acciones, values.proxima_accion),
        ui.h("h3", { class: "section-title" }, "Resumen"),
        ui.h("dl", { class: "dl wizard-summary" },
          ui.h("dt", "Contacto"), ui.h("dd", L.res[values.resultado_contacto] || "—"),
          ui.h("dt", "Tipificación"), ui.h("dd", L.tip[values.tipificacion] || "—"),
          ui.h("dt", "Notas"), ui.h("dd", values.notas || "—")));
    }
    const first = panel.querySelector("input:checked, input, textarea");
    if (first) first.focus();
  }

  function go(n) {
    collect();
    step = Math.min(3, Math.max(1, n));
    render();
  }

  async function call(path, body) {
    return api(`/api/leads/${encodeURIComponent(id)}/${path}`, { method: "POST", body: { fencing_token: token, ...body } });
  }

  const payload = () => Object.fromEntries(Object.entries(values).filter(([, v]) => v !== null && v !== ""));

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    collect();
    if (step === 1 && !values.resultado_contacto) return void (error.textContent = "Elige cómo resultó el contacto.");
    if (step === 2 && !values.tipificacion) return void (error.textContent = "Elige una tipificación.");
    try {
      if (step < 3) {
        const res = await ui.busy(next, call("step", { data: { ...payload(), wizard_step: step + 1 } }));
        record = res.record;
        step += 1;
        render();
      } else if (scheduling()) {
        const at = new Date(callbackAt).getTime();
        if (!callbackAt || Number.isNaN(at)) return void (error.textContent = "Elige la fecha y hora de la llamada.");
        const res = await ui.busy(next, call("schedule", { data: { ...payload(), callback_at: at } }));
        end("scheduled");
        ui.toast(`${record.nombre}: volver a llamar el ${ui.fmtDateTime(res.record.callback_at)}.`, { kind: "success", title: "Llamada agendada" });
      } else {
        await ui.busy(next, call("complete", { data: payload() }));
        end("completed");
        ui.toast(`${record.nombre}: gestión completada.`, { kind: "success", title: "Terminado" });
      }
    } catch (err) {
      if (LOST.has(err.code)) return lost(errorText(err, Object.fromEntries(ctx.names)));
      error.textContent = errorText(err);
    }
  });

  async function beat() {
    if (ended) return;
    try {
      const res = await call("heartbeat", {});
      token = res.lease.fencing_token;
      record = res.record;
      beatFailures = 0;
    } catch (err) {
      if (ended) return;
      if (LOST.has(err.code)) {
        // The lease ran out (a long sleep, a dropped connection): take it
        // again if the lead is still ours and nobody else has it.
        try {
          const again = await api(`/api/leads/${encodeURIComponent(id)}/open`, { method: "POST", body: { tab: ctx.tab } });
          token = again.lease.fencing_token;
          record = again.record;
          return;
        } catch (err2) {
          return lost(errorText(err2, Object.fromEntries(ctx.names)));
        }
      }
      if (++beatFailures === 2) ui.toast("No se pudo renovar el bloqueo; reintentando…", { kind: "warning" });
    }
  }
  const timer = setInterval(beat, Math.max(500, config.heartbeat * 1000));
  const onVisible = () => { if (!document.hidden) beat(); };
  document.addEventListener("visibilitychange", onVisible);

  function end(reason) {
    if (ended) return;
    ended = true;
    clearInterval(timer);
    document.removeEventListener("visibilitychange", onVisible);
    d.close();
    ctx.onEnd(reason);
  }

  function lost(message) {
    end("lost");
    ui.toast(message, { kind: "warning", title: "El wizard se cerró", timeout: 9000 });
  }

  async function finish(reason) {
    if (ended) return;
    end(reason);
    try {
      await call("close", {});
    } catch (_) {
      // the lease expires on its own; nothing else to undo
    }
  }

  d.result.then(() => finish("closed")); // Esc, the backdrop, the X
  render();
  ui.announce(`Wizard abierto: ${record.nombre}`);

  return {
    id,
    get ended() { return ended; },
    update(row) {
      record = { ...record, ...row };
    },
    gone(message) {
      if (ended) return;
      end("gone");
      ui.toast(message, { kind: "warning", title: "El wizard se cerró", timeout: 9000 });
    },
    close: () => finish("closed"),
  };
}
