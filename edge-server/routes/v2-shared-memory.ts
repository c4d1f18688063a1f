/**
 * Open Inference Protocol system shared memory extension, in Triton's REST shape: clients on this host register
 * windows of /dev/shm objects and then name them in inference requests instead of sending tensor bytes.
 */
import { Hono, type Context } from 'hono';
import type { SharedMemoryStatusEntry } from '../../core/protocol/oip';
import { ServerError } from '../http/errors';
import { limitBody } from '../http/requests';
import { isLoopbackPeer } from '../oip/shared-memory-peer';
import type { SharedMemoryRegistry } from '../oip/shared-memory';
import type { AppDeps } from '../app';

const MAX_REGISTER_BODY = 4096;

/**
 * The registry when this request may use shared memory; otherwise the reason it may not, as an error. Used by the
 * inference route too, so a region is only ever read or written for a client on this host.
 */
export function sharedMemoryFor(c: Context, registry: SharedMemoryRegistry | undefined): SharedMemoryRegistry {
  if (!registry) {
    throw new ServerError(
      'BadRequest',
      'system shared memory is off on this server; start it with EDGE_SHARED_MEMORY=loopback to let clients on the same host use it',
    );
  }
  if (!isLoopbackPeer(c)) {
    throw new ServerError(
      'BadRequest',
      'system shared memory is only available to clients on the same host, connected over loopback (EDGE_SHARED_MEMORY=loopback)',
    );
  }
  return registry;
}

async function jsonObject(c: Context): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ServerError('BadRequest', `the body must be JSON {"key", "offset", "byte_size"} (${(e as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ServerError('BadRequest', 'the body must be a JSON object {"key", "offset", "byte_size"}');
  }
  return value as Record<string, unknown>;
}

export function v2SharedMemoryRoutes(deps: Pick<AppDeps, 'sharedMemory'>): Hono {
  const app = new Hono();
  const registry = (c: Context) => sharedMemoryFor(c, deps.sharedMemory);
  // Triton answers register and unregister with an empty 200.
  const done = (c: Context) => c.body(null, 200);

  app.get('/systemsharedmemory/status', (c) => c.json<SharedMemoryStatusEntry[]>(registry(c).status()));
  app.get('/systemsharedmemory/region/:name/status', (c) => c.json<SharedMemoryStatusEntry[]>(registry(c).status(c.req.param('name'))));
  app.post('/systemsharedmemory/region/:name/register', limitBody(MAX_REGISTER_BODY), async (c) => {
    const r = registry(c);
    const body = await jsonObject(c);
    r.register(c.req.param('name'), body.key, body.offset, body.byte_size);
    return done(c);
  });
  app.post('/systemsharedmemory/unregister', (c) => {
    registry(c).unregister();
    return done(c);
  });
  app.post('/systemsharedmemory/region/:name/unregister', (c) => {
    registry(c).unregister(c.req.param('name'));
    return done(c);
  });
  return app;
}
