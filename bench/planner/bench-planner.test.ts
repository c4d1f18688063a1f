import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'bench-planner-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bench:planner', () => {
  it('prints the table and writes decide_p50_ms / decide_p99_ms', () => {
    const out = join(dir, 'planner.json');
    const stdout = execFileSync(
      process.execPath,
      ['--import', 'tsx', 'bench/planner/bench-planner.ts', '--iterations', '300', '--warmup', '50', '--out', out],
      {
        encoding: 'utf8',
      },
    );
    expect(stdout).toMatch(/\| profiles \| policy \| plans \| p50 ms \| p90 ms \| p99 ms \|/);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    expect(json.decide_p50_ms).toBeGreaterThan(0);
    expect(json.decide_p99_ms).toBeGreaterThanOrEqual(json.decide_p50_ms);
    expect(json.plans).toBeGreaterThan(50);
  });

  it('rejects a bad iteration count with a clear message', () => {
    expect(() =>
      execFileSync(process.execPath, ['--import', 'tsx', 'bench/planner/bench-planner.ts', '--iterations', 'many'], { encoding: 'utf8', stdio: 'pipe' }),
    ).toThrowError(/--iterations: expected a positive integer/);
  });
});
