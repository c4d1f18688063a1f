import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_PROFILES } from '../../core/placement';
import type { Profiles } from '../../core/profiles';
import { executableProfiles, loadProfiles } from './profiles';

const MEASURED: Profiles = { ...structuredClone(EXAMPLE_PROFILES), source: { kind: 'measured', description: 'measured on a test machine' } };

// A loopback server publishing profiles in each state a real server can be in.
let server: Server;
let base: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/good/profiles.json') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(MEASURED));
    if (req.url === '/broken/profiles.json') return void res.writeHead(200).end('{"schema": 2}');
    res.writeHead(404).end('{"error":"no such file"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('loadProfiles', () => {
  it('uses measured profiles the server publishes', async () => {
    const loaded = await loadProfiles(fetch, `${base}/good/profiles.json`);
    expect(loaded.source).toBe('measured');
    expect(loaded.profiles.source.description).toBe('measured on a test machine');
  });

  it('falls back to the example figures, saying why, when the server has none', async () => {
    const loaded = await loadProfiles(fetch, `${base}/none/profiles.json`);
    expect(loaded).toMatchObject({ source: 'example', profiles: EXAMPLE_PROFILES });
    expect(loaded.note).toMatch(/404/);
  });

  it('falls back when the published file is invalid, naming the problem', async () => {
    const loaded = await loadProfiles(fetch, `${base}/broken/profiles.json`);
    expect(loaded.source).toBe('example');
    expect(loaded.note).toMatch(/schema/);
  });

  it('falls back when the server cannot be reached', async () => {
    const loaded = await loadProfiles(fetch, 'http://127.0.0.1:1/profiles.json');
    expect(loaded.source).toBe('example');
  });
});

describe('executableProfiles', () => {
  it('keeps the configurations of the device variant, without split detection or the classifier', () => {
    const p = executableProfiles(EXAMPLE_PROFILES, 'int8-weights');
    expect(new Set(p.accuracy.map((a) => a.det))).toEqual(new Set(['ppocr-det@int8-weights']));
    expect(p.splits).toEqual([]);
    expect(p.defaults).toMatchObject({ det: 'ppocr-det@int8-weights', maxSide: 960, cls: null });
  });

  it('pairs a variant detector with the same variant recogniser when the profiler measured one', () => {
    // Profiler-shaped: every model of the manifest, named as the manifest names them.
    const p = structuredClone(EXAMPLE_PROFILES);
    p.models = p.models.map((m) => (m.variant === 'int8-weights' ? { ...m, name: `${m.name}-int8w` } : m));
    p.models.push({ id: 'ppocr-rec@int8-weights', name: 'ppocr-rec-int8w', variant: 'int8-weights', role: 'rec', weightBytes: 2_881_949 });
    p.accuracy.push({ det: 'ppocr-det@int8-weights', maxSide: 960, rec: 'ppocr-rec@int8-weights', wordRecall: 0.78 });
    const out = executableProfiles(p, 'int8-weights');
    expect(out.accuracy).toEqual([{ det: 'ppocr-det@int8-weights', maxSide: 960, rec: 'ppocr-rec@int8-weights', wordRecall: 0.78 }]);
    expect(out.defaults).toMatchObject({ det: 'ppocr-det@int8-weights', rec: 'ppocr-rec@int8-weights', maxSide: 960 });
    // fp32 keeps its whole detector-size ladder.
    expect(executableProfiles(p, 'fp32').accuracy.map((a) => a.maxSide).sort()).toEqual([320, 640, 960]);
  });

  it('keeps the default configurations when the variant was never profiled', () => {
    const p = executableProfiles(EXAMPLE_PROFILES, 'fp16');
    expect(p.accuracy.length).toBeGreaterThan(0);
    expect(p.accuracy.every((a) => a.det === EXAMPLE_PROFILES.defaults.det)).toBe(true);
  });
});
