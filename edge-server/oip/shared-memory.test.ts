import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SharedMemoryRegistry } from './shared-memory';
import { isLoopbackAddress } from './shared-memory-peer';

let dir: string;
let registry: SharedMemoryRegistry;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tandem-shm-'));
  registry = new SharedMemoryRegistry({ dir, maxRegions: 3 });
});
afterEach(() => {
  registry.close();
  rmSync(dir, { recursive: true, force: true });
});

const object = (file: string, bytes: number[] | number): void => {
  writeFileSync(join(dir, file), typeof bytes === 'number' ? new Uint8Array(bytes) : new Uint8Array(bytes));
};
const error = (f: () => unknown): Error => {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
};

describe('shared memory registry', () => {
  it('reads and writes inside a registered window of an object, in fresh aligned buffers', () => {
    object('obj', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    registry.register('r', '/obj', 2, 8);
    expect(registry.status()).toEqual([{ name: 'r', key: '/obj', offset: 2, byte_size: 8 }]);
    const bytes = registry.read('r', 1, 4);
    expect(Array.from(bytes)).toEqual([3, 4, 5, 6]);
    expect(bytes.byteOffset).toBe(0);
    expect(bytes.buffer.byteLength).toBe(4);
    registry.write('r', 4, new Uint8Array([99, 98]));
    expect(Array.from(registry.read('r', 0, 8))).toEqual([2, 3, 4, 5, 99, 98, 8, 9]);
  });

  it('checks every access against the window, naming the tensor', () => {
    object('obj', 16);
    registry.register('r', 'obj', 8, 8);
    expect(error(() => registry.read('r', 4, 8, 'input x'))).toMatchObject({
      name: 'BadRequest',
      message: "input x: 8 bytes at offset 4 do not fit shared memory region 'r' of 8 bytes",
    });
    expect(() => registry.write('r', 8, new Uint8Array(1))).toThrow(/do not fit/);
    expect(error(() => registry.read('nope', 0, 1, 'input x'))).toMatchObject({
      name: 'BadRequest',
      message: /input x: no shared memory region 'nope' is registered \(registered: r\)/,
    });
    expect(error(() => registry.status('nope'))).toMatchObject({ name: 'NotFound' });
  });

  it('refuses keys and names that are paths, symbolic links, other kinds of files and objects too small', () => {
    object('small', 4);
    mkdirSync(join(dir, 'sub'));
    symlinkSync(join(dir, 'small'), join(dir, 'link'));
    const cases: Array<[string, unknown, RegExp]> = [
      ['r', '../etc/passwd', /key "..\/etc\/passwd" must be 1 to 128 letters/],
      ['r', '//small', /key "\/small" must be/],
      ['r', '..', /key "\.\." must be/],
      ['r', 'a b', /key "a b" must be/],
      ['r', 7, /key must be the name of a shared memory object, got 7/],
      ['../r', 'small', /region name "..\/r" must be/],
      ['x'.repeat(129), 'small', /region name "x{129}" must be/],
      ['r', 'link', /cannot open shared memory object 'link': it is a symbolic link/],
      ['r', 'missing', /cannot open shared memory object 'missing': it does not exist/],
      ['r', 'sub', /'sub': it is not a regular file/],
    ];
    for (const [name, key, pattern] of cases) {
      expect(error(() => registry.register(name, key, 0, 4))).toMatchObject({ name: 'BadRequest', message: expect.stringMatching(pattern) });
    }
    expect(() => registry.register('r', 'small', 2, 4)).toThrow(/has 4 bytes; a region of 4 bytes at offset 2 needs 6/);
    expect(() => registry.register('r', 'small', -1, 4)).toThrow(/offset must be a non-negative integer byte count, got -1/);
    expect(() => registry.register('r', 'small', 0, 1.5)).toThrow(/byte_size must be a non-negative integer byte count, got 1.5/);
    expect(registry.status()).toEqual([]);
  });

  it('refuses a name registered twice and more regions than its cap; unregistering frees them', () => {
    object('obj', 8);
    registry.register('a', 'obj', 0, 8);
    expect(() => registry.register('a', 'obj', 0, 4)).toThrow(/region 'a' is already registered; unregister it first/);
    registry.register('b', 'obj', 0, 4);
    registry.register('c', 'obj', 4, 4);
    expect(() => registry.register('d', 'obj', 0, 4)).toThrow(/3 shared memory regions are registered, the most this server keeps/);
    registry.unregister('a');
    registry.unregister('a');
    expect(registry.status().map((r) => r.name)).toEqual(['b', 'c']);
    registry.unregister();
    expect(registry.status()).toEqual([]);
    registry.register('d', 'obj', 0, 8);
  });

  it('says so when the object was truncated after registration', () => {
    object('obj', 8);
    registry.register('r', 'obj', 0, 8);
    truncateSync(join(dir, 'obj'), 2);
    expect(() => registry.read('r', 0, 8)).toThrow(/ended before 8 bytes .* \(it was truncated\)/);
  });
});

describe('loopback peers', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['::FFFF:127.0.0.2', true],
    ['10.0.0.1', false],
    ['192.168.1.5', false],
    ['::ffff:10.0.0.1', false],
    ['fe80::1', false],
    ['128.0.0.1', false],
    ['1270.0.0.1', false],
    ['', false],
    [undefined, false],
  ])('%s is loopback: %s', (address, loopback) => {
    expect(isLoopbackAddress(address)).toBe(loopback);
  });
});
