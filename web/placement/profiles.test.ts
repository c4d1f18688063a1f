import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEstimatorState, EXAMPLE_PROFILES, type Plan } from '../../core/placement';
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
  const space = (p: Profiles) => createEstimatorState(p).space;
  const variants = (plans: readonly Plan[]) => new Set(plans.map((x) => x.config.variant));

  it('plans every variant set on the device and the edge’s own set on the edge, without split detection or the classifier', () => {
    const p = executableProfiles(EXAMPLE_PROFILES);
    const s = space(p);
    expect(variants(s.plans.filter((x) => x.kind === 'device'))).toEqual(new Set(['fp32', 'int8-weights']));
    expect(variants(s.plans.filter((x) => x.kind === 'edge'))).toEqual(new Set(['fp32']));
    expect(s.plans.some((x) => x.kind === 'split-rec' && x.config.variant === 'int8-weights')).toBe(true);
    expect(p.splits).toEqual([]);
    expect(p.defaults).toMatchObject({ det: 'ppocr-det@fp32', maxSide: 960, cls: null });
  });

  it('keeps one set on the device when a variant is named; the edge still runs its own', () => {
    const s = space(executableProfiles(EXAMPLE_PROFILES, 'int8-weights'));
    expect(variants(s.plans.filter((x) => !x.usesEdge || x.kind === 'split-rec'))).toEqual(new Set(['int8-weights']));
    expect(variants(s.plans.filter((x) => x.kind === 'edge'))).toEqual(new Set(['fp32']));
  });

  it('pairs a variant detector with the same variant recogniser when the profiler measured one', () => {
    // Profiler-shaped: every model of the manifest, named as the manifest names them.
    const p = structuredClone(EXAMPLE_PROFILES);
    p.models = p.models.map((m) => (m.variant === 'int8-weights' ? { ...m, name: `${m.name}-int8w` } : m));
    p.models.push({ id: 'ppocr-rec@int8-weights', name: 'ppocr-rec-int8w', variant: 'int8-weights', role: 'rec', weightBytes: 2_881_949 });
    p.accuracy.push({ det: 'ppocr-det@int8-weights', maxSide: 960, rec: 'ppocr-rec@int8-weights', wordRecall: 0.78 });
    const configs = space(executableProfiles(p)).configs;
    expect(configs.filter((c) => c.variant === 'int8-weights').map(({ det, maxSide, rec, accuracy }) => ({ det, maxSide, rec, accuracy }))).toEqual([
      { det: 'ppocr-det@int8-weights', maxSide: 960, rec: 'ppocr-rec@int8-weights', accuracy: 0.78 },
    ]);
    // fp32 keeps its whole detector-size ladder.
    expect(
      configs
        .filter((c) => c.variant === 'fp32')
        .map((c) => c.maxSide)
        .sort(),
    ).toEqual([320, 640, 960]);
  });

  it('plans with the default set when the named variant was never profiled', () => {
    const s = space(executableProfiles(EXAMPLE_PROFILES, 'fp16'));
    expect(s.plans.length).toBeGreaterThan(0);
    expect(s.plans.every((x) => x.config.det === EXAMPLE_PROFILES.defaults.det)).toBe(true);
  });
});
