/** Puts an app on a socket and takes it off gracefully: stop accepting, let requests in progress finish, then close. */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { DEFAULTS, type EdgeConfig } from '../config';

export type ListenTimeouts = Pick<EdgeConfig, 'headersTimeoutMs' | 'requestTimeoutMs'>;

export interface Listening {
  server: Server;
  port: number;
  /** Stops accepting connections and resolves when open requests have finished (or `timeoutMs` passed). */
  close(timeoutMs?: number): Promise<void>;
}

/**
 * Clients get `headersTimeoutMs` to send their request headers and `requestTimeoutMs` for the whole request (0 = no
 * limit), answered 408 by Node; Node checks both once per `connectionsCheckingInterval` (30 s by default, here 1 s,
 * or a client that never finishes its headers held its connection for up to a minute and a half).
 */
export function listen(app: Hono, port: number, hostname: string, timeouts: Partial<ListenTimeouts> = {}): Promise<Listening> {
  const headersTimeout = timeouts.headersTimeoutMs ?? DEFAULTS.EDGE_HEADERS_TIMEOUT_MS;
  const requestTimeout = timeouts.requestTimeoutMs ?? DEFAULTS.EDGE_REQUEST_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const server = serve({
      fetch: app.fetch,
      port,
      hostname,
      serverOptions: {
        headersTimeout,
        // Node requires the headers timeout to be within the request timeout when both are set.
        requestTimeout: requestTimeout === 0 ? 0 : Math.max(requestTimeout, headersTimeout),
        connectionsCheckingInterval: Math.min(1000, headersTimeout),
      },
    }) as Server;
    server.on('clientError', answerClientError);
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      resolve({ server, port: (server.address() as AddressInfo).port, close: (timeoutMs = 10_000) => closeGracefully(server, timeoutMs) });
    });
  });
}

const CLIENT_ERRORS: Record<string, [number, string, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'HeadersTooLarge', 'the request line and headers exceed the server limit'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'RequestTimeout', 'the request did not arrive in time'],
};

/**
 * Requests Node's own parser rejects before the app sees them (headers too large, malformed, too slow) get the same
 * JSON error body and `nosniff` as every other error, instead of Node's bare status line.
 */
function answerClientError(err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: import('node:net').Socket): void {
  // As Node does: only a connection that has had no reply yet gets one (after an early reply, the rest of an unread
  // body reaches the parser as garbage); a peer that is gone gets nothing.
  if (err.code === 'ECONNRESET' || !socket.writable || socket.bytesWritten > 0) {
    socket.destroy();
    return;
  }
  const [status, text, code, message] = CLIENT_ERRORS[err.code ?? ''] ?? [400, 'Bad Request', 'MalformedRequest', 'the request is not valid HTTP'];
  const body = JSON.stringify({ error: message, code });
  const head = err.rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD ';
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n${head ? '' : body}`,
  );
}

function closeGracefully(server: Server, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    // Keep-alive connections with no request in flight would hold close() open; drop them as they go idle.
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    const deadline = setTimeout(() => server.closeAllConnections(), timeoutMs);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(deadline);
      resolve();
    });
    server.closeIdleConnections();
  });
}
