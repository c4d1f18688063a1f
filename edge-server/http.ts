/** Shared HTTP pieces: the error reply every route uses and the body-size guard. */
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ErrorBody } from '../core/protocol/v1';
import { noteReplyCode } from './metrics';
import { DeadlineError, RateLimitError, ServerError, statusFor } from './errors';

export function errorReply(c: Context, error: unknown): Response {
  const status = statusFor(error);
  const e = error instanceof Error ? error : new Error(String(error));
  const body: ErrorBody = { error: status >= 500 && !(e instanceof ServerError) ? `internal error: ${e.message}` : e.message, code: e.name };
  if (e instanceof DeadlineError) {
    // Rounded apart so the reply never shows a prediction that seems to fit.
    body.predicted_ms = Math.ceil(e.predictedMs);
    body.budget_ms = Math.floor(e.budgetMs);
    c.header('Retry-After', String(e.retryAfterS));
  } else if (e instanceof RateLimitError) {
    c.header('Retry-After', String(e.retryAfterS));
  }
  noteReplyCode(c, e.name);
  return c.json(body, status as 400);
}

export function limitBody(maxBytes: number): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: (c) => errorReply(c, new ServerError('BodyTooLarge',
      `the request body is larger than the server limit of ${maxBytes} bytes (MAX_BODY_BYTES); send a smaller image or tensor`)),
  });
}

/** Content-Type without parameters, lower-cased; '' when absent. */
export function mediaType(c: Context): string {
  return (c.req.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
}
