/**
 * Who may use system shared memory: a region gives its user read and write access to a file of the server's user,
 * so only clients on this host, connected over loopback, may register or use one.
 */
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { isIPv4 } from 'node:net';

/** 127.0.0.0/8, ::1 and IPv4 loopback addresses mapped into IPv6 (::ffff:127.x.x.x). */
export function isLoopbackAddress(address: string | undefined | null): boolean {
  if (!address) return false;
  const a = address.toLowerCase();
  if (a === '::1' || a === '0:0:0:0:0:0:0:1') return true;
  const v4 = a.startsWith('::ffff:') ? a.slice(7) : a;
  return isIPv4(v4) && v4.startsWith('127.');
}

/**
 * Whether the request came from this host. The socket's peer decides; a request that went through a proxy
 * (forwarding headers) counts as remote even when the proxy itself connects over loopback.
 */
export function isLoopbackPeer(c: Context): boolean {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (c.req.header('forwarded') !== undefined || c.req.header('x-forwarded-for') !== undefined) return false;
  return isLoopbackAddress(incoming?.socket?.remoteAddress);
}
