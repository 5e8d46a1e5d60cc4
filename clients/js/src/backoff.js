/** Waiting between attempts. */

/** Delay before reconnect attempt n (n >= 1): uniform in [min, min(max, min·2^n)]
 * — full jitter above a floor, so a restarted server is not hit by every
 * client at the same instant. */
export function backoffDelay(attempt, min = 250, max = 10000, random = Math.random) {
  const ceiling = Math.min(max, min * 2 ** Math.max(1, attempt));
  return Math.round(min + random() * (ceiling - min));
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
