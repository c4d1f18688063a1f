import { describe, expect, it } from 'vitest';
import { EXAMPLE_PROFILES } from './placement/example-profiles';
import { parseProfiles } from './profiles';

describe('parseProfiles', () => {
  it('accepts the example profiles, as an object and as JSON text', () => {
    expect(parseProfiles(EXAMPLE_PROFILES)).toBe(EXAMPLE_PROFILES);
    expect(parseProfiles(JSON.stringify(EXAMPLE_PROFILES))).toEqual(EXAMPLE_PROFILES);
  });

  it('the example says it is an example', () => {
    expect(EXAMPLE_PROFILES.source.kind).toBe('example');
    expect(EXAMPLE_PROFILES.source.description).toMatch(/not measured/i);
  });

  const broken: [string, (p: any) => void, RegExp][] = [
    ['wrong schema', (p) => (p.schema = 2), /schema/],
    ['unknown model in accuracy', (p) => (p.accuracy[0].det = 'nope'), /accuracy\[0\]\.det: unknown model "nope"/],
    ['rec model used as detector', (p) => (p.accuracy[0].det = 'ppocr-rec@fp32'), /not a det model/],
    ['recall above 1', (p) => (p.accuracy[1].wordRecall = 1.2), /accuracy\[1\]\.wordRecall/],
    ['p90 below p50', (p) => (p.runtimes[0].stages[0].points[0].stats.p90 = 1), /p90 .* below p50/],
    ['no points', (p) => (p.runtimes[1].stages[0].points = []), /runtimes\[1\]\.stages\[0\]\.points/],
    ['negative bytes', (p) => (p.models[0].weightBytes = -1), /models\[0\]\.weightBytes/],
    ['missing transfer', (p) => delete p.transfer, /transfer: expected an object/],
    ['detection H-mean above 1', (p) => (p.accuracy[0].detHmean = 1.5), /accuracy\[0\]\.detHmean/],
    ['negative CER', (p) => (p.accuracy[0].cer = -0.1), /accuracy\[0\]\.cer/],
    ['throttle below 1', (p) => (p.runtimes[0].cpuThrottle = 0.5), /runtimes\[0\]\.cpuThrottle/],
  ];
  for (const [name, breakIt, message] of broken) {
    it(`rejects ${name} with ProfilesInvalid naming the field`, () => {
      const p = structuredClone(EXAMPLE_PROFILES);
      breakIt(p);
      expect(() => parseProfiles(p)).toThrowError(message);
      expect(() => parseProfiles(p)).toThrowError(expect.objectContaining({ name: 'ProfilesInvalid' }));
    });
  }

  it('rejects text that is not JSON', () => {
    expect(() => parseProfiles('{')).toThrowError(expect.objectContaining({ name: 'ProfilesInvalid' }));
  });
});
