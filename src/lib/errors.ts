/** Typed errors: services throw these, the one error handler turns them into HTML or JSON. */

export type FieldErrors = Record<string, string>;

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields?: FieldErrors,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends AppError {
  constructor(message: string, fields?: FieldErrors) {
    super(422, 'validation_failed', message, fields);
  }
}

export class BadRequestError extends AppError {
  constructor(message: string, code = 'bad_request') {
    super(400, code, message);
  }
}

export class NotFoundError extends AppError {
  constructor(message = 'Not found') {
    super(404, 'not_found', message);
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = 'Sign in required') {
    super(401, 'unauthorized', message);
  }
}

export class ForbiddenError extends AppError {
  constructor(message = 'Forbidden', code = 'forbidden') {
    super(403, code, message);
  }
}

export class ConflictError extends AppError {
  constructor(message: string, code = 'conflict') {
    super(409, code, message);
  }
}

export class RateLimitedError extends AppError {
  constructor(retryAfterSeconds: number, message = 'Too many requests; try again later') {
    super(429, 'rate_limited', message, undefined, { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) });
  }
}

/**
 * The database did not answer. Deliberately 500, not 503: nginx treats a 503 as a sick app
 * server (proxy_next_upstream http_503 counts toward max_fails) and would take healthy servers
 * out of rotation during a database failover, failing update checks the caches could answer.
 * 503 is what /readyz says while a server drains.
 */
export class DatabaseUnavailableError extends AppError {
  constructor(message = 'The database is briefly unavailable; try again in a few seconds.') {
    super(500, 'database_unavailable', message, undefined, { 'Retry-After': '5' });
  }
}
