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
  WebAppMissing: 503,
};

export class ServerError extends Error {
  constructor(code: string, message: string) {
    super(message);
    this.name = code;
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
