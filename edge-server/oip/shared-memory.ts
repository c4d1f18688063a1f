/**
 * System shared memory regions registered by same-host clients (Triton's system_shared_memory extension): each
 * region is a window `[offset, offset + byteSize)` of a file in /dev/shm that the client created. Inputs are read
 * from it and outputs written to it with positioned reads and writes on a file descriptor kept open while the
 * region is registered, so a region is one copy away from a tensor and never mapped into the server's memory.
 */
import { closeSync, constants, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { SharedMemoryStatusEntry } from '../../core/protocol/oip';
import { ServerError } from '../http/errors';

export const SHARED_MEMORY_DIR = '/dev/shm';
export const MAX_REGIONS = 64;
const NAME = /^[A-Za-z0-9_.-]{1,128}$/;

interface Region extends SharedMemoryStatusEntry {
  fd: number;
}

export interface SharedMemoryOptions {
  /** Where shared memory objects live; keys name files in it. */
  dir?: string;
  maxRegions?: number;
}

const bad = (message: string) => new ServerError('BadRequest', message);

/** Names of regions and keys of shared memory objects: plain file names, never a path. */
function checkName(value: unknown, what: string): string {
  if (typeof value !== 'string' || !NAME.test(value) || value === '.' || value === '..') {
    throw bad(`${what} ${JSON.stringify(value)} must be 1 to 128 letters, digits, '_', '.' or '-' (not '.' or '..')`);
  }
  return value;
}

function byteCount(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw bad(`${what} must be a non-negative integer byte count, got ${JSON.stringify(value)}`);
  }
  return value;
}

export class SharedMemoryRegistry {
  private readonly regions = new Map<string, Region>();
  private readonly dir: string;
  private readonly maxRegions: number;

  constructor(options: SharedMemoryOptions = {}) {
    this.dir = options.dir ?? SHARED_MEMORY_DIR;
    this.maxRegions = options.maxRegions ?? MAX_REGIONS;
  }

  /** Opens the shared memory object `key` (one leading '/' allowed, as shm_open takes it) and keeps the window. */
  register(name: string, key: unknown, offset: unknown, byteSize: unknown): void {
    checkName(name, 'region name');
    if (typeof key !== 'string') throw bad(`key must be the name of a shared memory object, got ${JSON.stringify(key)}`);
    const file = checkName(key.startsWith('/') ? key.slice(1) : key, 'key');
    const start = byteCount(offset ?? 0, 'offset');
    const size = byteCount(byteSize, 'byte_size');
    if (this.regions.has(name)) throw bad(`shared memory region '${name}' is already registered; unregister it first`);
    if (this.regions.size >= this.maxRegions) {
      throw bad(`${this.maxRegions} shared memory regions are registered, the most this server keeps; unregister one first`);
    }
    let fd: number;
    try {
      // O_NOFOLLOW: a key that is a symbolic link would let a client point the server at any file it can reach.
      fd = openSync(join(this.dir, file), constants.O_RDWR | constants.O_NOFOLLOW);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw bad(
        `cannot open shared memory object '${key}': ${
          code === 'ENOENT'
            ? 'it does not exist'
            : code === 'ELOOP'
              ? 'it is a symbolic link'
              : code === 'EISDIR'
                ? 'it is not a regular file'
                : code === 'EACCES'
                  ? 'permission denied'
                  : (e as Error).message
        }`,
      );
    }
    try {
      const stat = fstatSync(fd);
      if (!stat.isFile()) throw bad(`shared memory object '${key}' is not a regular file`);
      if (stat.size < start + size) {
        throw bad(`shared memory object '${key}' has ${stat.size} bytes; a region of ${size} bytes at offset ${start} needs ${start + size}`);
      }
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    this.regions.set(name, { name, key, offset: start, byte_size: size, fd });
  }

  /** Every region, or the one named (NotFound when it is not registered). */
  status(name?: string): SharedMemoryStatusEntry[] {
    const list = name === undefined ? [...this.regions.values()] : [this.region(name, 'NotFound')];
    return list.map(({ name: n, key, offset, byte_size }) => ({ name: n, key, offset, byte_size }));
  }

  /** Unregistering a region that is not registered does nothing, as in Triton. */
  unregister(name?: string): void {
    const names = name === undefined ? [...this.regions.keys()] : [name];
    for (const n of names) {
      const r = this.regions.get(n);
      if (!r) continue;
      this.regions.delete(n);
      closeSync(r.fd);
    }
  }

  /** `byteSize` bytes at `offset` of the region, in a fresh buffer (so 8-byte aligned and transferable). */
  read(region: string, offset: number, byteSize: number, where = 'tensor'): Uint8Array {
    const r = this.window(region, offset, byteSize, where);
    const out = new Uint8Array(new ArrayBuffer(byteSize));
    let at = 0;
    while (at < byteSize) {
      const n = readSync(r.fd, out, at, byteSize - at, r.offset + offset + at);
      if (n === 0)
        throw bad(
          `${where}: shared memory object '${r.key}' ended before ${byteSize} bytes at offset ${offset} of region '${region}' could be read (it was truncated)`,
        );
      at += n;
    }
    return out;
  }

  write(region: string, offset: number, bytes: Uint8Array, where = 'tensor'): void {
    const r = this.window(region, offset, bytes.length, where);
    let at = 0;
    while (at < bytes.length) at += writeSync(r.fd, bytes, at, bytes.length - at, r.offset + offset + at);
  }

  /** The region, after checking that `[offset, offset + byteSize)` lies inside it. */
  window(region: string, offset: number, byteSize: number, where = 'tensor'): SharedMemoryStatusEntry & { fd: number } {
    const r = this.region(region, 'BadRequest', where);
    if (offset + byteSize > r.byte_size) {
      throw bad(`${where}: ${byteSize} bytes at offset ${offset} do not fit shared memory region '${region}' of ${r.byte_size} bytes`);
    }
    return r;
  }

  close(): void {
    this.unregister();
  }

  private region(name: string, code: 'NotFound' | 'BadRequest', where?: string): Region {
    const r = this.regions.get(name);
    if (!r) {
      const known = [...this.regions.keys()];
      throw new ServerError(
        code,
        `${where ? `${where}: ` : ''}no shared memory region '${name}' is registered` + (known.length ? ` (registered: ${known.join(', ')})` : ''),
      );
    }
    return r;
  }
}
