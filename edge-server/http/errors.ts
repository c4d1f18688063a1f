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
  // nginx's code for a request the client closed before the reply: nobody reads it, but logs and metrics do.
  ClientClosed: 499,
  BodyTimeout: 408,
  Overloaded: 503,
  OutputTooLarge: 413,
  TensorTooLarge: 413,
};

export class ServerError extends Error {
  constructor(code: string, message: string) {
    super(message);
    this.name = code;
  }
}

/** The request cannot finish within its budget: refused at once (or dropped from the queue) so the client can run it elsewhere. */
export class DeadlineError extends ServerError {
  constructor(
    readonly predictedMs: number,
    readonly budgetMs: number,
    readonly retryAfterS: number,
    detail = '',
  ) {
    super(
      'DeadlineUnmeetable',
      `predicted completion in ${Math.round(predictedMs)} ms exceeds the budget of ${Math.round(budgetMs)} ms${detail}; ` +
        'run it on the device or retry later',
    );
  }
}

/** Too many requests from one client: `retryAfterS` says when a token is available again. */
export class RateLimitError extends ServerError {
  constructor(readonly retryAfterS: number) {
    super('RateLimited', `too many requests from this client; retry in ${retryAfterS} s`);
  }
}

/** The server is at a configured limit (requests in progress, decoded pixels): retry after `retryAfterS`. */
export class OverloadError extends ServerError {
  constructor(
    readonly retryAfterS: number,
    what: string,
  ) {
    super('Overloaded', `the server is busy (${what}); retry in ${retryAfterS} s or run it on the device`);
  }
}

/** The client went away before its reply: the work for it stops, and nothing is logged as a failure. */
export class ClientClosedError extends ServerError {
  constructor(stage: string) {
    super('ClientClosed', `the client closed the connection ${stage}`);
  }
}

/** Throws ClientClosedError when `signal` (the request's, aborted when its connection closes) has fired. */
export function throwIfClientGone(signal: AbortSignal | undefined, stage: string): void {
  if (signal?.aborted) throw new ClientClosedError(stage);
}

/**
 * Error text safe to send: native libraries (onnxruntime, libvips) put their build machine's source paths and line
 * numbers into messages, which tell a client about the server's insides and nothing it can act on.
 */
export function publicMessage(message: string): string {
  return message
    .split(process.cwd())
    .join('.')
    .replace(/(?<![\w.])(?:[A-Za-z]:)?(?:[\\/][\w.@+-]+)+\.(?:cc|cpp|cxx|c|h|hpp|m?js|ts|py)\b(?::\d+)*/g, '<source>')
    .replace(/(?<![\w.])(?:[\\/][\w.@+-]+)*[\\/]node_modules[\\/][^\s'"),]*/g, '<module>');
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
