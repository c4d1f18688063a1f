/**
 * Headers that keep browsers from misusing what this server sends: no MIME sniffing, no framing (clickjacking), and
 * for the web app's HTML a Content Security Policy that allows exactly what the app loads.
 */
import type { MiddlewareHandler } from 'hono';

/**
 * The web app loads its scripts, styles, icons, manifest and service worker from this origin, runs onnxruntime-web's
 * WebAssembly ('wasm-unsafe-eval' compiles WASM, not JavaScript strings), starts module workers from this origin
 * (onnxruntime may start its threads from blob: URLs), draws images from blob: and data: URLs, and talks to this
 * server only. Everything else (plugins, other origins, inline script, being framed) is refused.
 */
export const WEB_APP_CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "connect-src 'self'",
  "img-src 'self' blob: data:",
  "style-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const securityHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  c.res.headers.set('X-Content-Type-Options', 'nosniff');
  c.res.headers.set('X-Frame-Options', 'DENY');
  // Only documents get the policy: a worker script's own response policy would govern the worker instead of the page's.
  if (/^text\/html\b/i.test(c.res.headers.get('content-type') ?? '')) c.res.headers.set('Content-Security-Policy', WEB_APP_CSP);
};
