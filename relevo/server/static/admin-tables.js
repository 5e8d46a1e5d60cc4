// The admin page's tables (connections, channels, recent errors, errors by
// code) and the Spanish text of each stable code. admin.js fills them.

import * as ui from "/static/ui/ui.js";

const $ = (id) => document.getElementById(id);

// Spanish description of each stable error / disconnect code.
const CODE_TEXT = {
  bad_request: "Trama o petición no válida",
  unauthorized: "Credenciales no válidas",
  forbidden: "Sin permiso",
  not_found: "No encontrado",
  too_large: "Demasiado grande",
  rate_limited: "Demasiados comandos",
  limit_exceeded: "Límite superado",
  slow_consumer: "Cliente lento",
  token_expired: "Token caducado",
  unavailable: "Servicio no disponible",
  internal: "Error interno",
  conflict: "Conflicto de escritura",
  locked: "Registro bloqueado",
  forced: "Desconectado por el servidor",
  shutdown: "Apagado del servidor",
  no_pong: "Sin respuesta al ping",
  resubscribe: "Canal interrumpido: resuscribir",
};
const codeText = (code) => CODE_TEXT[code] || code;

export function who(user, roles = []) {
  if (!user) {
    return ui.h("span", { class: "who" }, ui.h("span", { class: "avatar anon", "aria-hidden": "true" }, ui.icon("user")),
      ui.h("span", { class: "muted" }, "Anónimo"));
  }
  return ui.h("span", { class: "who" }, ui.h("span", { class: "avatar", "aria-hidden": "true" }, ui.initials(user)),
    ui.h("span", { class: "truncate" }, ui.h("span", { class: "strong" }, user),
      roles.length ? ui.h("span", { class: "cell-sub" }, roles.join(", ")) : null));
}

function channelTags(channels) {
  if (!channels.length) return ui.h("span", { class: "muted" }, "—");
  const shown = channels.slice(0, 4);
  return ui.h("span", { class: "chan-list" }, shown.map((c) => ui.h("span", { class: "tag" }, c)),
    channels.length > shown.length ? ui.h("span", { class: "tag", title: channels.slice(4).join(", ") }, `+${channels.length - 4}`) : null);
}

function detail(r) {
  return ui.h("span", null,
    ui.h("span", { class: "text-2" }, r.message || "—"),
    r.user || r.client ? ui.h("span", { class: "cell-sub mono" }, [r.user, r.client].filter(Boolean).join(" · ")) : null);
}

/** The four tables, bound to their elements; the page's actions come in. */
export function makeTables({ onDisconnect, onOpenChannel }) {
  const connTable = ui.table($("conn-table"), {
    caption: "Conexiones abiertas en este nodo",
    key: "client",
    columns: [
      { key: "user", label: "Usuario", primary: true, value: (r) => [r.user, r.roles], render: (r) => who(r.user, r.roles) },
      { key: "transport", label: "Transporte", render: (r) => ui.h("span", { class: "tag" }, r.transport.toUpperCase()) },
      { key: "channels", label: "Canales", render: (r) => channelTags(r.channels) },
      { key: "remote", label: "Origen", className: "muted mono small", render: (r) => r.remote || "—" },
      { key: "client", label: "Cliente", className: "mono small" },
      {
        key: "idle", label: "Actividad", className: "muted small nowrap", flash: false,
        value: (r) => Math.floor(r.idle / 5),
        render: (r) => r.idle < 5 ? "ahora" : ui.timeAgo(Date.now() - r.idle * 1000),
      },
      {
        label: "", className: "actions-cell", value: () => "",
        render: (r) => ui.h("button", {
          type: "button", class: "btn btn-ghost btn-sm", title: "Cerrar esta conexión",
          onclick: (e) => onDisconnect(r, e.currentTarget),
        }, ui.icon("x"), "Desconectar"),
      },
    ],
    empty: { icon: "plug", title: "Nadie conectado", text: "Las conexiones WebSocket y SSE de este nodo aparecerán aquí al momento." },
  });

  const chanTable = ui.table($("chan-table"), {
    caption: "Canales con suscriptores en este nodo",
    key: "name",
    sort: (a, b) => b.subscribers - a.subscribers || a.name.localeCompare(b.name),
    columns: [
      { key: "name", label: "Canal", primary: true, render: (r) => ui.h("span", { class: "mono strong" }, r.name) },
      { key: "subscribers", label: "Suscriptores", className: "num", render: (r) => ui.fmtNumber(r.subscribers) },
      {
        key: "presence", label: "Presencia", className: "num",
        render: (r) => r.tracked
          ? (r.presence == null ? ui.h("span", { class: "muted", title: "La presencia no respondió" }, "?") : ui.fmtNumber(r.presence))
          : ui.h("span", { class: "muted", title: "Este namespace no registra presencia (join_leave)" }, "—"),
      },
      { label: "", className: "actions-cell muted hide-phone", value: () => "", render: () => ui.icon("chevron") },
    ],
    onRowClick: (row) => onOpenChannel(row.name),
    empty: { icon: "radio", title: "Sin canales", text: "Un canal aparece cuando alguien se suscribe." },
  });

  const recentTable = ui.table($("recent-table"), {
    caption: "Errores recientes",
    key: (r) => `${r.ts}|${r.kind}|${r.code}|${r.client}`,
    sort: (a, b) => b.ts - a.ts,
    compact: true,
    columns: [
      { key: "ts", label: "Hora", className: "mono small nowrap", render: (r) => ui.fmtTime(r.ts * 1000, { seconds: true }) },
      {
        key: "code", label: "Código",
        render: (r) => ui.h("span", null, ui.h("span", { class: "err-code" }, r.code),
          ui.h("span", { class: "cell-sub" }, codeText(r.code))),
      },
      {
        key: "kind", label: "Tipo",
        render: (r) => r.kind === "disconnect" ? ui.chip("d", { label: "Desconexión", kind: "neutral" }) : ui.chip("e", { label: "Error", kind: "warning" }),
      },
      {
        label: "Detalle", className: "small", value: (r) => [r.message, r.client, r.user],
        render: (r) => detail(r),
      },
    ],
    empty: { icon: "success", title: "Sin errores recientes", text: "Nada que revisar por ahora." },
  });

  const codesTable = ui.table($("codes-table"), {
    caption: "Errores y desconexiones por código",
    key: "key",
    sort: (a, b) => b.total - a.total || a.code.localeCompare(b.code),
    compact: true,
    columns: [
      { key: "code", label: "Código", render: (r) => ui.h("span", { class: "err-code" }, r.code) },
      { key: "code", label: "Descripción", className: "text-2", render: (r) => codeText(r.code) },
      { key: "kind", label: "Tipo", render: (r) => r.kind === "disconnect" ? "Desconexión" : "Error" },
      { key: "total", label: "Total", className: "num strong", render: (r) => ui.fmtNumber(r.total) },
    ],
    empty: { icon: "success", title: "Ningún error desde el arranque", text: "" },
  });
  return { connTable, chanTable, recentTable, codesTable };
}
