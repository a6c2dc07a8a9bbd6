/**
 * How many requests the front passes on at once, following the latency it sees, as Netflix's
 * concurrency-limits Gradient2 does: while answers come about as fast as they usually do (within
 * `TOLERANCE` times the long-run average), the limit grows by its square root per answer, room
 * for a queue that keeps the server busy; when they come slower, a queue is standing somewhere
 * behind the front, and the limit shrinks in proportion (at most halving per answer, smoothed). So
 * a flood meets a limit near what the machine can do at that moment and is refused at once,
 * instead of queueing in front of work already taken. A limit with `min` = `max` stays fixed.
 */
export interface LimitRange {
  /** Where it starts: a burst up to this many is taken whole on a fresh start. */
  initial: number;
  min: number;
  max: number;
}

/** How much slower than the long-run average an answer may be before the limit shrinks. */
const TOLERANCE = 2;
/** How fast the limit moves toward each new estimate. */
const SMOOTHING = 0.2;
/** Answers the long-run average spans. */
const LONG_WINDOW = 600;

export class AdaptiveLimit {
  #limit: number;
  #longRttMs = 0;

  constructor(readonly range: LimitRange) {
    if (!(range.min <= range.initial && range.initial <= range.max && range.min >= 1))
      throw new Error(`limit range needs 1 <= min <= initial <= max: ${JSON.stringify(range)}`);
    this.#limit = range.initial;
  }

  /** Requests that may be in flight at once now. */
  get current(): number {
    return Math.floor(this.#limit);
  }

  /** An answer came `rttMs` after its request was passed on, with `inFlight` passed on at that time. */
  answered(rttMs: number, inFlight: number): void {
    const rtt = Math.max(rttMs, 0.1);
    if (this.#longRttMs === 0) this.#longRttMs = rtt;
    this.#longRttMs += (rtt - this.#longRttMs) / LONG_WINDOW;
    // After a long overload the average has crept up with it: let it come back down sooner.
    if (this.#longRttMs / rtt > TOLERANCE) this.#longRttMs *= 0.95;
    // Using less than half its room, the front learns nothing about the limit from this answer.
    if (inFlight < this.#limit / 2) return;
    const gradient = Math.min(1, Math.max(0.5, (TOLERANCE * this.#longRttMs) / rtt));
    const estimate = this.#limit * gradient + Math.sqrt(this.#limit);
    const next = this.#limit * (1 - SMOOTHING) + estimate * SMOOTHING;
    this.#limit = Math.min(this.range.max, Math.max(this.range.min, next));
  }
}
