/**
 * The domain's errors. Domain code throws these; the HTTP layer maps each to a problem response,
 * so no handler decides a status code on its own.
 */
export abstract class DomainError extends Error {
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

export class InvalidInput extends DomainError {
  readonly status = 400;
  readonly title = "Invalid request";
}

export class NotFound extends DomainError {
  readonly status = 404;
  readonly title = "Not found";
}

export class Conflict extends DomainError {
  readonly status = 409;
  readonly title = "Conflict";
}

/** The same Idempotency-Key arrived with a different request. */
export class IdempotencyKeyReused extends DomainError {
  readonly status = 422;
  readonly title = "Idempotency-Key reused";
  constructor() {
    super("This Idempotency-Key was already used with a different request body", "Idempotency-Key");
  }
}

/** A request body larger than the API takes. */
export class PayloadTooLarge extends DomainError {
  readonly status = 413;
  readonly title = "Payload too large";
}
