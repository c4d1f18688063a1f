/**
 * Errors the server turns into `{"error": "..."}` replies. `name` is the code (kept in logs and in the `code` field),
 * the HTTP status comes from the code so every layer can throw without knowing about HTTP.
 */
const STATUS: Record<string, number> = {
  BadRequest: 400,
  EmptyBody: 400,
  OipMalformed: 400,
  UnknownOutput: 400,
  InvalidQuery: 400,
  ImageCorrupt: 400,
  OcrBadImage: 400,
  NotFound: 404,
  UnknownModel: 404,
  UnknownVersion: 404,
  BodyTooLarge: 413,
  ImageTooLarge: 413,
  UnsupportedMediaType: 415,
  OipUnsupported: 415,
  ShapeMismatch: 422,
  DatatypeMismatch: 422,
  InputMismatch: 422,
  InferenceFailed: 422,
  OipUnencodable: 422,
  ModelUnavailable: 503,
  WorkerCrashed: 503,
  PoolClosed: 503,
  PoolUnavailable: 503,
  NotReady: 503,
  DeadlineUnmeetable: 503,
  Unauthorized: 401,
  OriginNotAllowed: 403,
  RateLimited: 429,
  WebAppMissing: 503,
  BackendUnreachable: 502,
  BackendFailed: 502,
  BackendUnavailable: 503,
  BackendTimeout: 504,
};

export class ServerError extends Error {
  constructor(code: string, message: string) {
    super(message);
    this.name = code;
  }
}

/** The request cannot finish within its budget: refused at once (or dropped from the queue) so the client can run it elsewhere. */
export class DeadlineError extends ServerError {
  constructor(readonly predictedMs: number, readonly budgetMs: number, readonly retryAfterS: number, detail = '') {
    super('DeadlineUnmeetable', `predicted completion in ${Math.round(predictedMs)} ms exceeds the budget of ${Math.round(budgetMs)} ms${detail}; `
      + 'run it on the device or retry later');
  }
}

/** Too many requests from one client: `retryAfterS` says when a token is available again. */
export class RateLimitError extends ServerError {
  constructor(readonly retryAfterS: number) {
    super('RateLimited', `too many requests from this client; retry in ${retryAfterS} s`);
  }
}

export function statusFor(error: unknown): number {
  if (error instanceof Error && error.name in STATUS) return STATUS[error.name];
  return 500;
}

/** Whether the error is the client's doing (logged quietly) or ours. */
export function isClientError(error: unknown): boolean {
  const s = statusFor(error);
  return s >= 400 && s < 500;
}
