import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RTT_MS, linkTypeOf, linkTypeOfFileName, loadTraces, parseTraceCsv, RateSeries, rttAt } from './traces';

describe('RateSeries', () => {
  // 1000 kbit/s for 1 s, nothing for 1 s, 2000 kbit/s for 1 s (the last row lasts one step).
  const s = new RateSeries([0, 1000, 2000], [1000, 0, 2000]);

  it('integrates the rate over time instead of using the average', () => {
    // 2 Mbit: 1 Mbit in the first second, a second of nothing, then 1 Mbit at 2 Mbit/s.
    expect(s.transferMs(0, 250_000)).toBeCloseTo(2500, 6);
    // Starting in the dead second waits for it to end.
    expect(s.transferMs(1500, 125_000)).toBeCloseTo(1000, 6);
    expect(s.meanKbps).toBeCloseTo(1000, 6);
  });

  it('wraps around the end of the trace', () => {
    // From 2.5 s: 0.5 s at 2000 kbit/s = 1 Mbit, then the trace restarts at 1000 kbit/s.
    expect(s.transferMs(2500, 250_000)).toBeCloseTo(1500, 6);
    expect(s.rateAt(3000 + 500)).toBe(1000);
  });

  it('reports a link that never delivers as never finishing', () => {
    expect(new RateSeries([0, 1000], [0, 0]).transferMs(0, 10)).toBe(Infinity);
  });
});

describe('trace files', () => {
  it('rejects a file without the t_ms,kbps header, naming it', () => {
    expect(() => parseTraceCsv('time,rate\n0,1\n', 'x.csv')).toThrow(/x\.csv: header must name t_ms and kbps/);
  });

  it('pairs up and down files, derives a missing uplink at the ratio, and types links from a listing or the name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-traces-'));
    writeFileSync(join(dir, 'src__a__down.csv'), 't_ms,kbps\n0,4000\n1000,4000\n');
    writeFileSync(join(dir, 'src__a__up.csv'), 't_ms,kbps\n0,1000\n1000,1000\n');
    writeFileSync(join(dir, 'src__b__down.csv'), 't_ms,kbps,rtt_ms\n0,3000,\n1000,3000,75\n');
    writeFileSync(join(dir, 'other__lte_walk__up.csv'), 't_ms,kbps\n0,800\n');
    writeFileSync(join(dir, 'README.md'), '| file | link |\n|---|---|\n| src__a__down.csv | campus WiFi |\n| src__b__down.csv | 3G/HSDPA (Telenor) |\n');
    const traces = loadTraces(dir, { upFromDown: 0.25 });
    expect(traces.map((t) => t.name)).toEqual(['other__lte_walk', 'src__a', 'src__b']);
    const [c, a, b] = traces;
    expect(a.upFrom).toBe('up');
    expect(a.up.meanKbps).toBeCloseTo(1000);
    expect(a.linkType).toBe('wifi');
    expect(a.linkSource).toBe('listing');
    expect(b.upFrom).toBe('down×ratio');
    expect(b.up.meanKbps).toBeCloseTo(750);
    expect(b.linkType).toBe('3g');
    expect(rttAt(b, 1500)).toBe(75);
    expect(c.downFrom).toBe('up');
    expect(c.linkType).toBe('lte');
    expect(c.linkSource).toBe('file-name');
    expect(rttAt(c, 0)).toBe(DEFAULT_RTT_MS.lte);
  });

  it('reads link words', () => {
    expect(linkTypeOf('fixed broadband (FCC MBA 2016, US homes; not mobile)')).toBe('broadband');
    expect(linkTypeOf('Verizon commercial mmWave 5G (NSA)')).toBe('5g');
    expect(linkTypeOf('LTE/4G (Verizon, Minneapolis)')).toBe('lte');
    expect(linkTypeOf('cellular (carrier/technology not stated)')).toBe('cellular');
    expect(linkTypeOfFileName('irish5g__Download')).toBe('5g');
  });
});
