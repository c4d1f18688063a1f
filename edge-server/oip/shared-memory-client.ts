/**
 * The client side of system shared memory, for programs on the same host as an Open Inference Protocol server
 * (this edge server with EDGE_SHARED_MEMORY=loopback, or Triton): a file in /dev/shm registered as a region,
 * written before an inference and read after it.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, ftruncateSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import {
  SHARED_MEMORY_BYTE_SIZE,
  SHARED_MEMORY_OFFSET,
  SHARED_MEMORY_REGION,
  type Parameters,
  type SharedMemoryRegisterRequest,
} from '../../core/protocol/oip';

export interface SharedMemoryRegionOptions {
  /** Bearer token of the server. */
  token?: string;
  /** Where shared memory objects live; the server must look in the same place. */
  dir?: string;
}

export class SharedMemoryRegion {
  private disposed = false;

  private constructor(
    private readonly baseUrl: string,
    /** The region's name in the server's registry. */
    readonly name: string,
    /** The shared memory object's key, as registered (leading '/'). */
    readonly key: string,
    readonly byteSize: number,
    private readonly path: string,
    private readonly fd: number,
    private readonly token: string | undefined,
  ) {}

  /** Creates a zeroed shared memory object of `byteSize` bytes and registers all of it as region `name`. */
  static async create(baseUrl: string, name: string, byteSize: number, options: SharedMemoryRegionOptions = {}): Promise<SharedMemoryRegion> {
    if (!Number.isSafeInteger(byteSize) || byteSize < 0) throw new RangeError(`byteSize must be a non-negative integer, got ${byteSize}`);
    const file = `tandem-${process.pid}-${randomBytes(6).toString('hex')}`;
    const path = join(options.dir ?? '/dev/shm', file);
    const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    const region = new SharedMemoryRegion(baseUrl.replace(/\/+$/, ''), name, `/${file}`, byteSize, path, fd, options.token);
    try {
      ftruncateSync(fd, byteSize);
      const body: SharedMemoryRegisterRequest = { key: region.key, offset: 0, byte_size: byteSize };
      await region.post(`/region/${encodeURIComponent(name)}/register`, JSON.stringify(body));
    } catch (e) {
      closeSync(fd);
      unlinkSync(path);
      throw e;
    }
    return region;
  }

  /** Copies `bytes` (any typed array, as its little-endian bytes on this host) into the region at `offset`. */
  write(offset: number, bytes: ArrayBufferView): void {
    const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.check(offset, view.length);
    let at = 0;
    while (at < view.length) at += writeSync(this.fd, view, at, view.length - at, offset + at);
  }

  /**
   * `byteSize` bytes of the region at `offset`, in a fresh (8-byte aligned) buffer, or at the start of `into` (a
   * buffer kept from one run to the next is not faulted in again by the kernel on every read).
   */
  read(offset: number, byteSize: number, into?: Uint8Array): Uint8Array {
    this.check(offset, byteSize);
    if (into && into.length < byteSize) throw new RangeError(`${byteSize} bytes do not fit a buffer of ${into.length}`);
    const out = into ? into.subarray(0, byteSize) : new Uint8Array(new ArrayBuffer(byteSize));
    let at = 0;
    while (at < byteSize) {
      const n = readSync(this.fd, out, at, byteSize - at, offset + at);
      if (n === 0) throw new Error(`shared memory object ${this.path} ended before ${offset + byteSize} bytes`);
      at += n;
    }
    return out;
  }

  /** Tensor or requested-output parameters that place data at `[offset, offset + byteSize)` of this region. */
  parameters(offset: number, byteSize: number): Parameters {
    this.check(offset, byteSize);
    const p: Parameters = { [SHARED_MEMORY_REGION]: this.name, [SHARED_MEMORY_BYTE_SIZE]: byteSize };
    if (offset !== 0) p[SHARED_MEMORY_OFFSET] = offset;
    return p;
  }

  /** Unregisters the region, then closes and removes the file; the file goes even when unregistering fails. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    try {
      await this.post(`/region/${encodeURIComponent(this.name)}/unregister`);
    } finally {
      closeSync(this.fd);
      unlinkSync(this.path);
    }
  }

  private check(offset: number, byteSize: number): void {
    if (this.disposed) throw new Error(`shared memory region ${this.name} was disposed`);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(byteSize) || offset < 0 || byteSize < 0 || offset + byteSize > this.byteSize) {
      throw new RangeError(`${byteSize} bytes at offset ${offset} do not fit shared memory region ${this.name} of ${this.byteSize} bytes`);
    }
  }

  private async post(path: string, body?: string): Promise<void> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const res = await fetch(`${this.baseUrl}/v2/systemsharedmemory${path}`, { method: 'POST', headers, body });
    if (!res.ok) {
      const text = await res.text();
      let message = text;
      try {
        message = (JSON.parse(text) as { error?: string }).error ?? text;
      } catch {
        /* not JSON: keep the text */
      }
      throw new Error(`${path.split('/').pop()} of shared memory region ${this.name} failed: HTTP ${res.status} ${message}`);
    }
    await res.arrayBuffer();
  }
}
