/**
 * Timers for deadlines that may lie far ahead. Node runs a setTimeout longer than 2^31-1 ms after 1 ms instead, so a
 * budget of a few weeks ("no limit") would fire at once; delays are clamped, and callers re-check the clock when
 * their timer fires.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export function clampDelay(ms: number): number {
  return Number.isNaN(ms) ? 0 : Math.min(MAX_TIMER_MS, Math.max(0, ms));
}

/** setTimeout at absolute performance.now() time `at`, re-armed until then however far ahead it is; unref'd. */
export function timerAt(at: number, fn: () => void, now: () => number = () => performance.now()): { cancel(): void } {
  let timer: NodeJS.Timeout;
  const arm = () => {
    timer = setTimeout(() => (now() >= at ? fn() : arm()), clampDelay(at - now()));
    timer.unref();
  };
  arm();
  return { cancel: () => clearTimeout(timer) };
}
