/**
 * Errors a caller is told about as a problem (RFC 9457 problem+json, or a PROBLEM frame on a
 * socket), each with its status: the domain's (not found, conflict, invalid input) and the edge's
 * (unauthorized, too large, too many). Code throws these; one mapper (http/problem.ts) turns each
 * into its answer, so no handler decides a status code on its own.
 */
export abstract class ProblemError extends Error {
  abstract readonly status: number;
  abstract readonly title: string;
  constructor(
    readonly detail: string,
    readonly field?: string,
  ) {
    super(detail);
    this.name = new.target.name;
  }
}

export class InvalidInput extends ProblemError {
  readonly status = 400;
  readonly title = "Invalid request";
}

export class NotFound extends ProblemError {
  readonly status = 404;
  readonly title = "Not found";
}

export class Conflict extends ProblemError {
  readonly status = 409;
  readonly title = "Conflict";
}

/** The same Idempotency-Key arrived with a different request. */
export class IdempotencyKeyReused extends ProblemError {
  readonly status = 422;
  readonly title = "Idempotency-Key reused";
  constructor() {
    super("This Idempotency-Key was already used with a different request body", "Idempotency-Key");
  }
}

/** A request body larger than the API takes. */
export class PayloadTooLarge extends ProblemError {
  readonly status = 413;
  readonly title = "Payload too large";
}

/** No valid access token: missing, malformed, expired, or not one of this shop's user pool and client. */
export class Unauthorized extends ProblemError {
  readonly status = 401;
  readonly title = "Unauthorized";
}

/** A valid caller asking to act for another user. */
export class Forbidden extends ProblemError {
  readonly status = 403;
  readonly title = "Forbidden";
}

/** A documented limit reached: too many open sockets, syncs too often. */
export class TooManyRequests extends ProblemError {
  readonly status = 429;
  readonly title = "Too many requests";
}

/** Something a request needs (the user pool's keys, say) cannot be reached right now: a 503, not the caller's fault. */
export class DependencyUnavailable extends Error {
  constructor(
    readonly dependency: string,
    options?: ErrorOptions,
  ) {
    super(`${dependency} cannot be reached`, options);
    this.name = "DependencyUnavailable";
  }
}
