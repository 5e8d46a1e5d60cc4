// relevo UI kit — one import for a page:
//
//   import * as ui from "/static/ui/ui.js";     // or: import ui from "/static/ui/ui.js";
//   <link rel="stylesheet" href="/static/ui/ui.css">
//
// Every export is documented where it is defined; docs/ui.md has the tour.

export { $, $$, append, classNames, escapeHtml, h, hydrateIcons, icon, initials, replace, setAttrs } from "./dom.js";
export { announce, busy, flash, toast } from "./feedback.js";
export {
  countdown, duration, fmtCompact, fmtDate, fmtDateTime, fmtDecimal, fmtNumber, fmtRate, fmtTime,
  humanDuration, plural, tickTimes, timeAgo, toDate,
} from "./time.js";
export { focusSearch, shortcuts, showHelp } from "./keys.js";
export { confirm, dialog, drawer, prompt } from "./overlay.js";
export { emptyState, LiveTable, liveUpdate, syncTable, table } from "./table.js";
export {
  badge, bindConnection, bindStale, chip, CONN_LABELS, connIndicator, defineStatus, setBadge, setConn, STATUS,
  statusLabel,
} from "./status.js";
export { segmented, shell, tabs, userChip } from "./shell.js";
export { sparkline, updateSparkline } from "./spark.js";

import * as self from "./ui.js";
export default self;
