/**
 * Access limits on the API: CORS allow-list, optional bearer token, per-client rate limit.
 * Health probes and the web app stay open; the token also guards /metrics.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIPv6 } from 'node:net';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { HEADER_LENGTH_HEADER } from '../../core/protocol/oip';
import { ACCEPT_HEADER, BUDGET_HEADER, CONFIG_HEADER, ESCALATE_HEADER, IMAGE_SIZE_HEADER, LATE_ANSWER_HEADER } from '../../core/protocol/headers';
import { SERVER_TIMING_HEADER } from '../../core/protocol/server-timing';
import type { EdgeConfig } from '../config';
import { RateLimitError, ServerError } from './errors';
import { errorReply } from './requests';
import { TokenBuckets } from '../limits/token-bucket';

export type LimitsConfig = Pick<EdgeConfig, 'token' | 'corsOrigins' | 'rateLimitPerS' | 'rateBurst' | 'trustProxy' | 'publicOrigins'>;

/** Development pages (vite dev/preview servers) on this machine may call the API without configuration. */
const LOCAL_DEV_ORIGIN = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/;

/** Whether a page at `origin` may call this server's API. Pages of this server's own origins always may. */
export function originAllowed(origin: string, c: Context, allowList: string[] | null, publicOrigins: string[] | null = null): boolean {
  if (ownOrigin(origin, c, publicOrigins)) return true;
  if (allowList === null) return LOCAL_DEV_ORIGIN.test(origin);
  return allowList.includes('*') || allowList.includes(origin);
}

/**
 * This server's own origins: the configured public ones (EDGE_PUBLIC_ORIGINS), and the address and port the
 * connection actually arrived at (plus the localhost forms when that is a loopback address). Never the Host header:
 * the client writes it, and a page on a DNS-rebound name (http://evil.example:8787 resolving to this server) sends a
 * matching Host, so comparing with it let any such page use the API.
 */
function ownOrigin(origin: string, c: Context, publicOrigins: string[] | null): boolean {
  if (publicOrigins?.includes(origin.toLowerCase())) return true;
  const socket = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket;
  if (!socket?.localPort || !socket.localAddress) return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  // This server speaks plain HTTP; an https page reaches it through a proxy, whose origin is configured.
  if (url.protocol !== 'http:' || Number(url.port || 80) !== socket.localPort) return false;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const local = unmapped(socket.localAddress);
  if (host === local || (isIPv6(host) && isIPv6(local) && host === local.toLowerCase())) return true;
  return isLoopback(local) && (host === 'localhost' || isLoopback(host));
}

const unmapped = (address: string) => address.replace(/^::ffff:(?=\d+\.)/i, '');
const isLoopback = (address: string) => /^127\./.test(address) || address === '::1';

const EXPOSE_HEADERS = [SERVER_TIMING_HEADER, HEADER_LENGTH_HEADER, 'Retry-After', CONFIG_HEADER];

export function corsMiddleware(config: LimitsConfig): MiddlewareHandler {
  const preflight = cors({
    origin: (origin, c) => (originAllowed(origin, c, config.corsOrigins, config.publicOrigins) ? origin : null),
    allowHeaders: ['Content-Type', 'Authorization', HEADER_LENGTH_HEADER, BUDGET_HEADER, ACCEPT_HEADER, IMAGE_SIZE_HEADER, LATE_ANSWER_HEADER, ESCALATE_HEADER],
    exposeHeaders: EXPOSE_HEADERS,
    maxAge: 600,
  });
  const expose = EXPOSE_HEADERS.join(',');
  return async (c, next) => {
    const origin = c.req.header('origin');
    // The browser would hide the answer anyway; refusing up front also keeps such pages from spending inference.
    if (origin && !originAllowed(origin, c, config.corsOrigins, config.publicOrigins)) {
      return errorReply(
        c,
        new ServerError('OriginNotAllowed', `pages from ${origin} may not call this API; add the origin to EDGE_CORS_ORIGINS on the server`),
      );
    }
    if (c.req.method === 'OPTIONS') return preflight(c, next);
    // The same headers hono/cors sets, but once the reply exists: touching c.res before the route answers makes Hono
    // rebuild the route's Response around a stream of its body (measured: about 4 ms per 1 MB tensor reply).
    await next();
    if (origin) c.res.headers.set('Access-Control-Allow-Origin', origin);
    c.res.headers.set('Access-Control-Expose-Headers', expose);
    c.res.headers.append('Vary', 'Origin');
  };
}

export function bearerMiddleware(token: string): MiddlewareHandler {
  const expected = digest(token);
  return async (c, next) => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '');
    // Compared as digests so the comparison takes the same time whatever the length or content.
    if (!m || !timingSafeEqual(digest(m[1]), expected)) {
      c.header('WWW-Authenticate', 'Bearer realm="tandem-edge"');
      return errorReply(
        c,
        new ServerError(
          'Unauthorized',
          m ? 'the bearer token is not valid for this server' : 'this server requires "Authorization: Bearer <token>" (set by its operator in EDGE_TOKEN)',
        ),
      );
    }
    await next();
  };
}

export function rateLimitMiddleware(config: LimitsConfig, now: () => number = () => performance.now()): MiddlewareHandler {
  const buckets = new TokenBuckets(config.rateLimitPerS, config.rateBurst);
  return async (c, next) => {
    const verdict = buckets.take(clientKey(c, config.trustProxy), now());
    if (!verdict.ok) return errorReply(c, new RateLimitError(verdict.retryAfterS));
    await next();
  };
}

/** The client's address; behind a trusted proxy, the first X-Forwarded-For hop. */
function clientKey(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const first = c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
    if (first) return first;
  }
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'local'; // in-process requests (app.request) have no socket
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
