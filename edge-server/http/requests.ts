/** Shared HTTP pieces: the error reply every route uses and the body-size guard. */
import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ErrorBody } from '../../core/protocol/v1';
import { noteReplyCode } from './metrics';
import { ClientClosedError, DeadlineError, OverloadError, RateLimitError, ServerError, publicMessage, statusFor } from './errors';

const NATIVE_TEXT = new Set(['InferenceFailed', 'ImageCorrupt', 'ImageTooLarge', 'ModelUnavailable', 'WorkerCrashed', 'BackendFailed', 'BackendUnavailable']);

export function errorReply(c: Context, error: unknown): Response {
  const status = statusFor(error);
  const e = error instanceof Error ? error : new Error(String(error));
  // Messages that carry a native library's text (onnxruntime, libvips, a backend) lose its source paths; the others
  // are this server's own words and may name the client's paths.
  const message = !(e instanceof ServerError) || NATIVE_TEXT.has(e.name) ? publicMessage(e.message) : e.message;
  const body: ErrorBody = { error: status >= 500 && !(e instanceof ServerError) ? `internal error: ${message}` : message, code: e.name };
  if (e instanceof DeadlineError) {
    // Rounded apart so the reply never shows a prediction that seems to fit.
    body.predicted_ms = Math.ceil(e.predictedMs);
    body.budget_ms = Math.floor(e.budgetMs);
    c.header('Retry-After', String(e.retryAfterS));
  } else if (e instanceof RateLimitError || e instanceof OverloadError) {
    c.header('Retry-After', String(e.retryAfterS));
  }
  noteReplyCode(c, e.name);
  return c.json(body, status as 400);
}

export function limitBody(maxBytes: number): MiddlewareHandler {
  const tooLarge = (c: Context) =>
    errorReply(
      c,
      new ServerError('BodyTooLarge', `the request body is larger than the server limit of ${maxBytes} bytes (MAX_BODY_BYTES); send a smaller image or tensor`),
    );
  const counted = bodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return async (c, next) => {
    // A declared length is judged from the header alone. Touching the body stream here would make the Node adapter
    // read every body through a web stream (about 10 ms more for a 6 MB tensor); only chunked bodies are counted.
    const length = c.req.header('content-length');
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (Number(length) > maxBytes) return tooLarge(c);
      await next();
      return;
    }
    return counted(c, next);
  };
}

/**
 * The whole request body in one buffer, placed so that byte `alignAt` sits on an 8-byte boundary: binary tensors
 * that follow a JSON header of `alignAt` bytes then decode as views, with no copy. With a declared length on the
 * Node adapter the bytes are read straight from the socket into that buffer (one copy instead of three);
 * otherwise through the request's own reader.
 */
export async function readAlignedBody(c: Context, alignAt: number): Promise<Uint8Array> {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  const declared = c.req.header('content-length');
  const pad = (8 - (alignAt % 8)) % 8;
  if (!incoming || declared === undefined || c.req.header('transfer-encoding') !== undefined || incoming.readableDidRead) {
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    if ((bytes.byteOffset + alignAt) % 8 === 0) return bytes;
    const aligned = new Uint8Array(new ArrayBuffer(pad + bytes.length), pad);
    aligned.set(bytes);
    return aligned;
  }
  const length = Number(declared);
  const body = new Uint8Array(new ArrayBuffer(pad + length), pad);
  let at = 0;
  await new Promise<void>((resolve, reject) => {
    const done = (error?: Error) => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', done);
      incoming.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onData = (chunk: Buffer) => {
      if (at + chunk.length > length) {
        done(new ServerError('BadRequest', `the request body is longer than its Content-Length of ${length} bytes`));
        return;
      }
      body.set(chunk, at);
      at += chunk.length;
    };
    const onEnd = () => done(at === length ? undefined : new ServerError('BadRequest', `the request body ended after ${at} of its ${length} declared bytes`));
    const onClose = () => {
      if (!incoming.readableEnded) done(new ServerError('BadRequest', 'the client closed the connection before the body was complete'));
    };
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', done);
    incoming.on('close', onClose);
  });
  return body;
}

/** Requests whose body stalled past the idle timeout (their socket was closed by the server, not the client). */
const stalled = new WeakSet<Request>();

export function bodyStalled(request: Request): boolean {
  return stalled.has(request);
}

/**
 * Closes the connection of a request whose body stops arriving for `ms` (0 = never). Node's own timeouts bound the
 * headers and the whole request; without this a client that sends headers and then nothing held its connection
 * and its handler for minutes. The timer restarts with every chunk and stops once the body is complete.
 */
export function bodyIdleTimeout(ms: number): MiddlewareHandler {
  return async (c, next) => {
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    if (ms <= 0 || !incoming || incoming.complete || c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const onTimeout = () => {
      stalled.add(c.req.raw);
      incoming.socket.destroy();
    };
    incoming.setTimeout(ms, onTimeout);
    const stop = () => {
      incoming.off('timeout', onTimeout);
      if (!incoming.socket.destroyed) incoming.socket.setTimeout(0);
    };
    incoming.once('end', stop);
    try {
      await next();
    } finally {
      incoming.off('end', stop);
      stop();
    }
  };
}

/**
 * `work` (reading the body, typically), or ClientClosedError as soon as `signal` fires: a body read whose client
 * hung up mid-upload otherwise never settled, and its request stayed in progress for good.
 */
export function unlessClientGone<T>(work: Promise<T>, signal: AbortSignal, stage: string): Promise<T> {
  if (signal.aborted) {
    work.catch(() => {});
    return Promise.reject(new ClientClosedError(stage));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new ClientClosedError(stage));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Content-Type without parameters, lower-cased; '' when absent. */
export function mediaType(c: Context): string {
  return (c.req.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
}
