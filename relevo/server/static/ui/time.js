// Time and number formatting in Spanish, and one shared ticker that keeps
// every relative time / countdown on the page current.

const LOCALE = "es";
const rtf = new Intl.RelativeTimeFormat(LOCALE, { numeric: "auto", style: "short" });
const rtfLong = new Intl.RelativeTimeFormat(LOCALE, { numeric: "auto", style: "long" });
const timeFmt = new Intl.DateTimeFormat(LOCALE, { hour: "2-digit", minute: "2-digit" });
const timeSecFmt = new Intl.DateTimeFormat(LOCALE, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const dateFmt = new Intl.DateTimeFormat(LOCALE, { day: "numeric", month: "short" });
const dateYearFmt = new Intl.DateTimeFormat(LOCALE, { day: "numeric", month: "short", year: "numeric" });
const dateTimeFmt = new Intl.DateTimeFormat(LOCALE, {
  day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit",
});

/** A Date from a Date, epoch ms, epoch seconds (< 1e11) or an ISO string. */
export function toDate(value) {
  if (value instanceof Date) return value;
  if (typeof value === "number") return new Date(value < 1e11 ? value * 1000 : value);
  return new Date(value);
}

/**
 * timeAgo(when, {now, long}) → "hace 5 s", "hace 3 min", "ayer", "12 mar".
 * Future instants read "dentro de 4 min". long: unabbreviated units.
 */
export function timeAgo(when, { now = Date.now(), long = false } = {}) {
  const date = toDate(when);
  const t = date.getTime();
  if (Number.isNaN(t)) return "";
  const fmt = long ? rtfLong : rtf;
  const diff = (t - now) / 1000; // negative: past
  const abs = Math.abs(diff);
  if (abs < 10) return "ahora";
  if (abs < 60) return fmt.format(Math.round(diff), "second");
  if (abs < 3600) return fmt.format(Math.round(diff / 60), "minute");
  if (abs < 86400) return fmt.format(Math.round(diff / 3600), "hour");
  const days = Math.round(diff / 86400);
  if (Math.abs(days) < 7) return fmt.format(days, "day");
  const sameYear = date.getFullYear() === new Date(now).getFullYear();
  return (sameYear ? dateFmt : dateYearFmt).format(date);
}

/**
 * countdown(until, {now}) → "4:59", "1:02:03"; once past, "-0:12" (overdue).
 * `until` is an instant (Date, ms, ISO); pass {seconds} to format a duration.
 */
export function countdown(until, { now = Date.now() } = {}) {
  const seconds = Math.ceil((toDate(until).getTime() - now) / 1000);
  return duration(seconds);
}

/** duration(seconds) → "4:59", "1:02:03", "-0:12". */
export function duration(seconds) {
  if (!Number.isFinite(seconds)) return "";
  const sign = seconds < 0 ? "-" : "";
  let s = Math.abs(Math.trunc(seconds));
  const hours = Math.floor(s / 3600);
  s -= hours * 3600;
  const minutes = Math.floor(s / 60);
  s -= minutes * 60;
  const ss = String(s).padStart(2, "0");
  return hours
    ? `${sign}${hours}:${String(minutes).padStart(2, "0")}:${ss}`
    : `${sign}${minutes}:${ss}`;
}

/** "3 min", "1 h 5 min", "2 d 4 h" — for uptimes and waiting times. */
export function humanDuration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const hrs = Math.floor(m / 60);
  if (hrs < 24) return m % 60 ? `${hrs} h ${m % 60} min` : `${hrs} h`;
  const d = Math.floor(hrs / 24);
  return hrs % 24 ? `${d} d ${hrs % 24} h` : `${d} d`;
}

export const fmtTime = (when, { seconds = false } = {}) =>
  (seconds ? timeSecFmt : timeFmt).format(toDate(when));
export const fmtDate = (when) => dateYearFmt.format(toDate(when));
export const fmtDateTime = (when) => dateTimeFmt.format(toDate(when));

const numFmt = new Intl.NumberFormat(LOCALE);
const dec1 = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 1, minimumFractionDigits: 0 });
const compact = new Intl.NumberFormat(LOCALE, { notation: "compact", maximumFractionDigits: 1 });

/** 1234 → "1234", 12345 → "12.345" (Spanish grouping). */
export const fmtNumber = (n) => (n == null || Number.isNaN(n) ? "—" : numFmt.format(n));
/**
 * plural(n, one, many, {number}) — the one place a count meets its noun:
 * plural(1, "fallido", "fallidos") → "1 fallido"; plural(1234, "contacto",
 * "contactos") → "1.234 contactos"; plural(0, …) → "0 contactos" (Spanish
 * uses the plural for zero). {number: false}: the noun alone, for a label
 * under a figure shown elsewhere.
 */
export function plural(n, one, many, { number = true } = {}) {
  const word = Math.abs(Number(n)) === 1 ? one : many;
  return number ? `${fmtNumber(n)} ${word}` : word;
}
/** 0.25 → "0,3", 12 → "12" */
export const fmtDecimal = (n) => (n == null || Number.isNaN(n) ? "—" : dec1.format(n));
/** 1500000 → "1,5 M" */
export const fmtCompact = (n) => (n == null || Number.isNaN(n) ? "—" : compact.format(n));
/** a per-second rate: "12,4/s" */
export const fmtRate = (n) => (n == null || Number.isNaN(n) ? "—" : `${dec1.format(n)}/s`);

/**
 * tickTimes(root) — keeps these elements current, once a second, while the
 * page is visible (one timer for the whole page):
 *   <time data-ago datetime="ISO">            → timeAgo
 *   <span data-countdown="ISO or ms">         → countdown; adds .is-overdue when past,
 *                                               .is-warning under data-warn seconds
 * Elements added later are picked up on the next tick. Returns stop().
 */
export function tickTimes(root = document) {
  const tick = () => {
    if (document.hidden) return;
    const now = Date.now();
    for (const el of root.querySelectorAll("[data-ago]")) {
      const when = el.getAttribute("datetime") || el.dataset.ago;
      const text = timeAgo(when, { now });
      if (el.textContent !== text) el.textContent = text;
      if (!el.title) el.title = fmtDateTime(when);
    }
    for (const el of root.querySelectorAll("[data-countdown]")) {
      const until = toDate(/^\d+$/.test(el.dataset.countdown) ? Number(el.dataset.countdown) : el.dataset.countdown);
      const left = (until.getTime() - now) / 1000;
      const text = countdown(until, { now });
      if (el.textContent !== text) el.textContent = text;
      el.classList.add("timer");
      el.classList.toggle("is-overdue", left < 0);
      const warn = Number(el.dataset.warn || 0);
      el.classList.toggle("is-warning", left >= 0 && warn > 0 && left <= warn);
    }
  };
  tick();
  const timer = setInterval(tick, 1000);
  const onVisible = () => { if (!document.hidden) tick(); };
  document.addEventListener("visibilitychange", onVisible);
  return () => {
    clearInterval(timer);
    document.removeEventListener("visibilitychange", onVisible);
  };
}
