/**
 * How many requests the front passes on at once, following the latency it sees, in the manner of
 * Netflix's concurrency-limits Gradient2 and Envoy's adaptive concurrency: the answers' latency is
 * held against the latency of answers given while the server had room (its no-load latency). While
 * answers come within `TOLERANCE` times that, the limit grows by its square root per answer, room
 * for a queue that keeps the server busy; when they come slower, a queue is standing behind the
 * front, and the limit shrinks in proportion (at most halving per answer, smoothed), down to `min`.
 * So a flood meets a limit near what the machine can do at that moment and is refused at once,
 * instead of queueing in front of work already taken. Once answers are quick again, the limit
 * climbs back to `initial` even under light load, so a burst after a flood is taken again. A limit
 * with `min` = `max` stays fixed.
 */
export interface LimitRange {
  /** Where it starts, and where it returns to once the server has room: a burst up to this many is taken whole. */
  initial: number;
  min: number;
  max: number;
}

/** How much slower than the no-load latency an answer may be before the limit shrinks. */
const TOLERANCE = 2;
/** How fast the limit moves toward each new estimate. */
const SMOOTHING = 0.2;
/** At most this many requests under way, the server has room: their latency is the no-load latency. */
const NO_LOAD_IN_FLIGHT = 4;
/** How fast the no-load latency follows new samples of it. */
const BASELINE_WEIGHT = 0.05;

export class AdaptiveLimit {
  #limit: number;
  #baselineMs = 0;

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
    // A request passed on with hardly any other under way measures the no-load latency; the very
    // first answer stands in until one does.
    const hadRoom = inFlight <= NO_LOAD_IN_FLIGHT;
    if (this.#baselineMs === 0) this.#baselineMs = rtt;
    else if (hadRoom) this.#baselineMs += (rtt - this.#baselineMs) * BASELINE_WEIGHT;
    const quick = rtt <= TOLERANCE * this.#baselineMs;
    if (inFlight < this.#limit / 2) {
      // Too little load to learn the limit from; a quick answer brings it back toward its initial value.
      if (quick && this.#limit < this.range.initial) this.#limit = Math.min(this.range.initial, this.#limit + 1);
      return;
    }
    const gradient = Math.min(1, Math.max(0.5, (TOLERANCE * this.#baselineMs) / rtt));
    const estimate = this.#limit * gradient + Math.sqrt(this.#limit);
    const next = this.#limit * (1 - SMOOTHING) + estimate * SMOOTHING;
    this.#limit = Math.min(this.range.max, Math.max(this.range.min, next));
  }
}
