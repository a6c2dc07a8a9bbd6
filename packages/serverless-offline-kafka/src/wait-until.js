// @ts-check

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `check` until it returns something other than undefined or false, and returns that. A
 * check that throws counts as "not yet" (its message ends up in the error when the wait gives
 * up); a check that hangs is cut short at the deadline.
 * @template T
 * @param {() => Promise<T | undefined | false> | T | undefined | false} check
 * @param {{ timeoutMs: number, intervalMs?: number, what: string }} options `what` names what is
 *   awaited, for the message when it does not happen.
 * @returns {Promise<T>}
 */
export async function waitUntil(check, options) {
  const deadline = Date.now() + options.timeoutMs;
  let last = "";
  for (;;) {
    /** @type {NodeJS.Timeout | undefined} */
    let timer;
    try {
      /** @type {Promise<undefined>} */
      const tooLate = new Promise(
        (resolve) => (timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - Date.now()))),
      );
      const value = await Promise.race([check(), tooLate]);
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    } finally {
      clearTimeout(timer);
    }
    if (Date.now() >= deadline)
      throw new Error(
        `waiting for ${options.what}: gave up after ${options.timeoutMs / 1000} s${last ? ` (last error: ${last})` : ""}`,
      );
    await sleep(Math.min(options.intervalMs ?? 200, deadline - Date.now()));
  }
}
