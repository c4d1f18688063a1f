import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { afterAll, describe, expect, it } from 'vitest';
import type { AppDeps } from '../app';
import { loadRepository } from '../model-repository';
import { modelFileRoutes } from './static';

const dir = mkdtempSync(join(tmpdir(), 'tandem-profiles-route-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function app(): Hono {
  // The file routes read only the repository.
  const deps = { repo: loadRepository(dir) } as unknown as AppDeps;
  return new Hono().route('/models', modelFileRoutes(deps));
}

describe('GET /models/profiles.json', () => {
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ schema: 1, models: [] }));

  it('serves the installed profiles with a revalidating ETag', async () => {
    const body = JSON.stringify({ schema: 1, note: 'measured' });
    writeFileSync(join(dir, 'profiles.json'), body);
    const res = await app().request('/models/profiles.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(await res.text()).toBe(body);
    const again = await app().request('/models/profiles.json', { headers: { 'if-none-match': res.headers.get('etag')! } });
    expect(again.status).toBe(304);
  });

  it('is not found when the repository has none', async () => {
    rmSync(join(dir, 'profiles.json'));
    const res = await app().request('/models/profiles.json');
    expect(res.status).not.toBe(200);
  });
});
