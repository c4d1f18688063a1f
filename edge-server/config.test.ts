import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULTS, REPO_ROOT, parseConfig } from './config';

describe('parseConfig', () => {
  it('fills defaults that let phones on the LAN reach the server', () => {
    const c = parseConfig({});
    expect(c).toMatchObject({
      port: 8787,
      host: '0.0.0.0',
      maxBodyBytes: DEFAULTS.MAX_BODY_BYTES,
      maxImagePixels: DEFAULTS.MAX_IMAGE_PIXELS,
      poolWorkers: DEFAULTS.POOL_WORKERS,
      intraOpThreads: DEFAULTS.ORT_INTRA_OP_THREADS,
      logLevel: 'info',
    });
    expect(c.modelDir).toBe(resolve(REPO_ROOT, 'models/repository'));
    expect(c.staticDir).toBe(resolve(REPO_ROOT, 'dist'));
  });

  it('reads every setting', () => {
    const c = parseConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      MODEL_DIR: '/srv/models',
      STATIC_DIR: 'web',
      MAX_BODY_BYTES: '1_048_576',
      MAX_IMAGE_PIXELS: '1000',
      POOL_WORKERS: '2',
      ORT_INTRA_OP_THREADS: '1',
      BATCH_MAX_SIZE: '4',
      BATCH_MAX_DELAY_MS: '3',
      LOG_LEVEL: 'DEBUG',
      SHUTDOWN_TIMEOUT_MS: '500',
      MODELS: 'ppocr-det, ppocr-rec',
      EDGE_TOKEN: 'abcdefghijklmnop-0123',
      EDGE_CORS_ORIGINS: 'https://a.example, http://b.example:8080',
      EDGE_RATE_LIMIT: '5',
      EDGE_RATE_BURST: '10',
      EDGE_TRUST_PROXY: '1',
      EDGE_BACKEND: 'https://triton.example:8000/',
      EDGE_BACKEND_TOKEN: 'secret',
      EDGE_BACKEND_CONCURRENCY: '4',
      EDGE_BACKEND_TIMEOUT_MS: '5000',
      EDGE_SHARED_MEMORY: 'loopback',
      EDGE_SHARED_MEMORY_DIR: '/run/shm',
      EDGE_PUBLIC_ORIGINS: 'https://OCR.example.com/, http://10.0.0.5:8787',
      EDGE_MAX_PIXELS_IN_FLIGHT: '50000',
      EDGE_PIXEL_WAIT_MS: '100',
      EDGE_MAX_UNBUDGETED: '8',
      EDGE_MAX_OUTPUT_ELEMENTS: '1000000',
      EDGE_MAX_JSON_OUTPUT_ELEMENTS: '1000',
      EDGE_MAX_TENSOR_BYTES: '4096',
      EDGE_HEADERS_TIMEOUT_MS: '2000',
      EDGE_REQUEST_TIMEOUT_MS: '30000',
      EDGE_BODY_IDLE_TIMEOUT_MS: '500',
    });
    expect(c).toEqual({
      port: 0,
      host: '127.0.0.1',
      modelDir: '/srv/models',
      staticDir: resolve(process.cwd(), 'web'),
      maxBodyBytes: 1_048_576,
      maxImagePixels: 1000,
      poolWorkers: 2,
      intraOpThreads: 1,
      batchMaxSize: 4,
      batchMaxDelayMs: 3,
      logLevel: 'debug',
      shutdownTimeoutMs: 500,
      models: ['ppocr-det', 'ppocr-rec'],
      token: 'abcdefghijklmnop-0123',
      corsOrigins: ['https://a.example', 'http://b.example:8080'],
      rateLimitPerS: 5,
      rateBurst: 10,
      trustProxy: true,
      backendUrl: 'https://triton.example:8000',
      backendToken: 'secret',
      backendConcurrency: 4,
      backendTimeoutMs: 5000,
      sharedMemory: 'loopback',
      sharedMemoryDir: '/run/shm',
      publicOrigins: ['https://ocr.example.com', 'http://10.0.0.5:8787'],
      maxPixelsInFlight: 50_000,
      pixelWaitMs: 100,
      maxUnbudgeted: 8,
      maxOutputElements: 1_000_000,
      maxJsonOutputElements: 1000,
      maxTensorBytes: 4096,
      headersTimeoutMs: 2000,
      requestTimeoutMs: 30_000,
      bodyIdleTimeoutMs: 500,
    });
  });

  it('refuses public origins that are not origins and a pixel budget below one image', () => {
    expect(() => parseConfig({ EDGE_PUBLIC_ORIGINS: 'ocr.example.com' })).toThrow(/EDGE_PUBLIC_ORIGINS: "ocr.example.com" must be origins/);
    expect(() => parseConfig({ EDGE_PUBLIC_ORIGINS: '*' })).toThrow(/EDGE_PUBLIC_ORIGINS/);
    expect(() => parseConfig({ MAX_IMAGE_PIXELS: '1000', EDGE_MAX_PIXELS_IN_FLIGHT: '999' })).toThrow(
      /EDGE_MAX_PIXELS_IN_FLIGHT=999 must be at least MAX_IMAGE_PIXELS=1000/,
    );
  });

  it('reports every bad value at once, naming the variable and the accepted range', () => {
    let error: unknown;
    try {
      parseConfig({ PORT: '80a', POOL_WORKERS: '0', ORT_INTRA_OP_THREADS: '1.5', LOG_LEVEL: 'loud', HOST: 'a b', MODELS: 'a/b' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/PORT="80a" must be an integer from 0 to 65535 \(default 8787\)/);
    expect(message).toMatch(/POOL_WORKERS="0" must be an integer from 1 to 64/);
    expect(message).toMatch(/ORT_INTRA_OP_THREADS="1.5"/);
    expect(message).toMatch(/LOG_LEVEL="loud" must be one of debug, info, warn, error, silent/);
    expect(message).toMatch(/HOST="a b"/);
    expect(message).toMatch(/MODELS="a\/b" must be a comma-separated list of model names/);
  });

  it('accepts only an http(s) base URL as EDGE_BACKEND', () => {
    expect(parseConfig({}).backendUrl).toBeNull();
    expect(() => parseConfig({ EDGE_BACKEND: 'triton:8000' })).toThrow(
      /EDGE_BACKEND="triton:8000" must be the base URL of an Open Inference Protocol v2 server/,
    );
    expect(() => parseConfig({ EDGE_BACKEND: 'ftp://x' })).toThrow(/EDGE_BACKEND=/);
    expect(() => parseConfig({ EDGE_BACKEND_TOKEN: 'secret' })).toThrow(/EDGE_BACKEND_TOKEN is set but EDGE_BACKEND is not/);
    expect(() => parseConfig({ EDGE_BACKEND: 'http://b:8000', EDGE_BACKEND_CONCURRENCY: '0' })).toThrow(
      /EDGE_BACKEND_CONCURRENCY="0" must be an integer from 1/,
    );
  });

  it('keeps system shared memory off unless set to loopback', () => {
    expect(parseConfig({})).toMatchObject({ sharedMemory: 'off', sharedMemoryDir: '/dev/shm' });
    expect(parseConfig({ EDGE_SHARED_MEMORY: 'Loopback' }).sharedMemory).toBe('loopback');
    expect(() => parseConfig({ EDGE_SHARED_MEMORY: 'on' })).toThrow(/EDGE_SHARED_MEMORY="on" must be off or loopback/);
    expect(() => parseConfig({ EDGE_SHARED_MEMORY_DIR: 'shm' })).toThrow(/EDGE_SHARED_MEMORY_DIR="shm" must be an absolute path/);
  });
});
