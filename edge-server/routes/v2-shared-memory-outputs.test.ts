import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ManifestModel } from '../../core/models/manifest';
import type { Tensor } from '../../core/protocol/oip';
import { SharedMemoryRegistry } from '../oip/shared-memory';
import { checkOutputRegions, writeOutputRegions } from './v2-shared-memory-outputs';

const model = {
  name: 'm',
  inputs: [],
  outputs: [
    { name: 'fixed', datatype: 'FP32', shape: [2, 4] },
    { name: 'dynamic', datatype: 'FP32', shape: [-1, 4] },
  ],
} as unknown as ManifestModel;

let dir: string;
let registry: SharedMemoryRegistry;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tandem-shm-out-'));
  writeFileSync(join(dir, 'obj'), new Uint8Array(64));
  registry = new SharedMemoryRegistry({ dir });
  registry.register('r', 'obj', 0, 64);
});
afterEach(() => {
  registry.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('outputs in shared memory', () => {
  it('refuses before the run an output whose fixed shape does not fit its window; a dynamic one waits for the run', () => {
    expect(() => checkOutputRegions(registry, model, new Map([['fixed', { region: 'r', offset: 0, byteSize: 16 }]]))).toThrow(
      /output fixed \[2,4\] needs 32 bytes, but shared_memory_byte_size gives 16 at offset 0 of region 'r'/,
    );
    expect(() => checkOutputRegions(registry, model, new Map([['dynamic', { region: 'r', offset: 0, byteSize: 16 }]]))).not.toThrow();
    expect(() => checkOutputRegions(registry, model, new Map([['dynamic', { region: 'gone', offset: 0, byteSize: 16 }]]))).toThrow(
      /output dynamic: no shared memory region 'gone'/,
    );
  });

  it('writes nothing when any output does not fit, and marks written outputs with their place', () => {
    const outputs = (): Tensor[] => [
      { name: 'fixed', datatype: 'FP32', shape: [2], data: new Float32Array([1, 2]) },
      { name: 'dynamic', datatype: 'FP32', shape: [3, 4], data: new Float32Array(12).fill(5) },
    ];
    const tooSmall = new Map([
      ['fixed', { region: 'r', offset: 8, byteSize: 8 }],
      ['dynamic', { region: 'r', offset: 16, byteSize: 32 }],
    ]);
    expect(() => writeOutputRegions(registry, tooSmall, outputs())).toThrow(/output dynamic of shape \[3,4\] needs 48 bytes/);
    expect(Array.from(registry.read('r', 0, 64)).every((b) => b === 0)).toBe(true);

    const written = outputs();
    writeOutputRegions(registry, new Map([['fixed', { region: 'r', offset: 8, byteSize: 8 }]]), written);
    expect(Array.from(new Float32Array(registry.read('r', 8, 8).buffer))).toEqual([1, 2]);
    expect(written[0].parameters).toEqual({ shared_memory_region: 'r', shared_memory_byte_size: 8, shared_memory_offset: 8 });
    expect(written[1].parameters).toBeUndefined();
  });
});
