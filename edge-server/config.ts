/** Server settings, read from the environment once at startup and validated as a whole. */
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOG_LEVELS, type LogLevel } from './log';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface EdgeConfig {
  port: number;
  host: string;
  /** Model repository (manifest.json + <model>/<version>/...). */
  modelDir: string;
  /** Built web app (vite output); may not exist, then / answers 503. */
  staticDir: string;
  maxBodyBytes: number;
  maxImagePixels: number;
  poolWorkers: number;
  intraOpThreads: number;
  /** Most rows (images, crops) one model run may join from queued requests; 1 = no batching. */
  batchMaxSize: number;
  /** How long a batch that is not full may wait for more requests while a worker is free. */
  batchMaxDelayMs: number;
  logLevel: LogLevel;
  /** Manifest models to load and serve; null = all. */
  models: string[] | null;
  /** How long shutdown waits for requests in progress. */
  shutdownTimeoutMs: number;
  /** Bearer token required on /v1, /v2 (not health) and /metrics; null = open. */
  token: string | null;
  /** Origins whose pages may call the API besides this server's own; null = localhost dev origins; ['*'] = any. */
  corsOrigins: string[] | null;
  /** Per-client requests per second on /v1 and /v2 (not health); 0 = no limit. */
  rateLimitPerS: number;
  rateBurst: number;
  /** Take the client address from the first X-Forwarded-For hop (only behind a proxy that sets it). */
  trustProxy: boolean;
  /** Open Inference Protocol v2 server that runs the models instead of local workers; null = run them here. */
  backendUrl: string | null;
  /** Sent to the backend as a bearer token. */
  backendToken: string | null;
  /** Model runs sent to the backend at once; more wait in this server's EDF queue. */
  backendConcurrency: number;
  /** A backend run not answered within this is failed with 504. */
  backendTimeoutMs: number;
  /** System shared memory for tensors (Triton's extension): off, or for clients connected over loopback only. */
  sharedMemory: SharedMemoryMode;
  /** Where the shared memory objects named by region keys live. */
  sharedMemoryDir: string;
  /** Origins this server is reached at (e.g. behind a proxy or by host name); null = the address a connection arrived at. */
  publicOrigins: string[] | null;
  /** Decoded image pixels all requests together may hold at once; more wait up to pixelWaitMs, then 503. */
  maxPixelsInFlight: number;
  pixelWaitMs: number;
  /** Requests without a budget in progress at once (whole-image OCR and OIP inference); more get 503. */
  maxUnbudgeted: number;
  /** Output elements one model run may produce (binary replies) and the stricter limit for JSON replies. */
  maxOutputElements: number;
  maxJsonOutputElements: number;
  /** Bytes of input tensors plus expected outputs one inference request may create. */
  maxTensorBytes: number;
  /** Time a client has to send its request headers, its whole request, and between two pieces of its body. */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  bodyIdleTimeoutMs: number;
}

export const SHARED_MEMORY_MODES = ['off', 'loopback'] as const;
export type SharedMemoryMode = (typeof SHARED_MEMORY_MODES)[number];

/**
 * Pool shape and batching chosen by measurement on the 2-core reference machine (edge-server/README.md, "Pool settings"
 * and "Batching and pool shape"): two single-thread workers served /v1/ocr about 2x faster than one worker with 2
 * intra-op threads, with batching on as well; recognition batches beyond 4 rows cost more per crop than single runs.
 */
export const DEFAULTS = {
  PORT: 8787,
  HOST: '0.0.0.0',
  MODEL_DIR: 'models/repository',
  STATIC_DIR: 'dist',
  MAX_BODY_BYTES: 20 * 1024 * 1024,
  MAX_IMAGE_PIXELS: 40_000_000,
  POOL_WORKERS: 2,
  ORT_INTRA_OP_THREADS: 1,
  BATCH_MAX_SIZE: 4,
  BATCH_MAX_DELAY_MS: 0,
  LOG_LEVEL: 'info' as LogLevel,
  SHUTDOWN_TIMEOUT_MS: 10_000,
  EDGE_RATE_LIMIT: 0,
  EDGE_RATE_BURST: 20,
  EDGE_BACKEND_CONCURRENCY: 2,
  EDGE_BACKEND_TIMEOUT_MS: 30_000,
  EDGE_SHARED_MEMORY: 'off' as SharedMemoryMode,
  EDGE_SHARED_MEMORY_DIR: '/dev/shm',
  /**
   * Two images at the largest size (RGBA 160 MB each plus the decoder's and pipeline's copies) keep the process well
   * under 2 GB; twenty of them at once drove it to 7.5 GB.
   */
  EDGE_MAX_PIXELS_IN_FLIGHT: 80_000_000,
  EDGE_PIXEL_WAIT_MS: 2_000,
  EDGE_MAX_UNBUDGETED: 32,
  EDGE_MAX_OUTPUT_ELEMENTS: 16 * 1024 * 1024,
  /** Encoding floats as JSON runs on the HTTP thread at about 3 M/s: 2 M elements block it for about 0.7 s. */
  EDGE_MAX_JSON_OUTPUT_ELEMENTS: 2 * 1024 * 1024,
  EDGE_MAX_TENSOR_BYTES: 128 * 1024 * 1024,
  EDGE_HEADERS_TIMEOUT_MS: 10_000,
  EDGE_REQUEST_TIMEOUT_MS: 120_000,
  EDGE_BODY_IDLE_TIMEOUT_MS: 10_000,
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

/** Parses every setting and reports all problems at once, naming the variable and what it accepts. */
export function parseConfig(env: Env = process.env): EdgeConfig {
  const problems: string[] = [];
  const int = (name: keyof typeof DEFAULTS, min: number, max: number): number => {
    const raw = env[name]?.trim();
    const fallback = DEFAULTS[name] as number;
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw.replace(/_/g, ''));
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name}=${JSON.stringify(raw)} must be an integer from ${min} to ${max} (default ${fallback})`);
      return fallback;
    }
    return value;
  };
  const dir = (name: 'MODEL_DIR' | 'STATIC_DIR'): string => {
    const raw = env[name]?.trim();
    // Defaults are relative to the checkout, values given by the operator relative to where they started the server.
    if (!raw) return resolve(REPO_ROOT, DEFAULTS[name]);
    return isAbsolute(raw) ? raw : resolve(process.cwd(), raw);
  };

  const logRaw = (env.LOG_LEVEL ?? env.LOG)?.trim().toLowerCase();
  let logLevel = DEFAULTS.LOG_LEVEL;
  if (logRaw) {
    if ((LOG_LEVELS as readonly string[]).includes(logRaw)) logLevel = logRaw as LogLevel;
    else problems.push(`LOG_LEVEL=${JSON.stringify(logRaw)} must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const modelsRaw = env.MODELS?.trim();
  const models = modelsRaw
    ? modelsRaw
        .split(',')
        .map((m) => m.trim())
        .filter(Boolean)
    : null;
  if (models && models.some((m) => !/^[\w.-]+$/.test(m))) problems.push(`MODELS=${JSON.stringify(modelsRaw)} must be a comma-separated list of model names`);
  const host = env.HOST?.trim() || DEFAULTS.HOST;
  if (/\s|\//.test(host)) problems.push(`HOST=${JSON.stringify(host)} must be a host name or IP address`);

  const token = env.EDGE_TOKEN?.trim() || null;
  if (token !== null && (token.length < 16 || /\s/.test(token)))
    problems.push('EDGE_TOKEN must be at least 16 characters without spaces (e.g. openssl rand -hex 24)');
  const originsRaw = env.EDGE_CORS_ORIGINS?.trim();
  const corsOrigins = originsRaw
    ? originsRaw
        .split(',')
        .map((o) => o.trim().replace(/\/$/, ''))
        .filter(Boolean)
    : null;
  const badOrigins = (corsOrigins ?? []).filter((o) => o !== '*' && !/^https?:\/\/[^/\s]+$/.test(o));
  if (badOrigins.length)
    problems.push(
      `EDGE_CORS_ORIGINS: ${badOrigins.map((o) => JSON.stringify(o)).join(', ')} must be origins like https://ocr.example.com (scheme, host, optional port) or *`,
    );
  const publicRaw = env.EDGE_PUBLIC_ORIGINS?.trim();
  const publicOrigins = publicRaw
    ? publicRaw
        .split(',')
        .map((o) => o.trim().replace(/\/$/, '').toLowerCase())
        .filter(Boolean)
    : null;
  const badPublic = (publicOrigins ?? []).filter((o) => !/^https?:\/\/[^/\s*]+$/.test(o));
  if (badPublic.length)
    problems.push(
      `EDGE_PUBLIC_ORIGINS: ${badPublic.map((o) => JSON.stringify(o)).join(', ')} must be origins like https://ocr.example.com (scheme, host, optional port)`,
    );
  const trustRaw = env.EDGE_TRUST_PROXY?.trim();
  if (trustRaw && !['0', '1'].includes(trustRaw)) problems.push(`EDGE_TRUST_PROXY=${JSON.stringify(trustRaw)} must be 0 or 1`);

  const backendRaw = env.EDGE_BACKEND?.trim() || null;
  let backendUrl: string | null = null;
  if (backendRaw !== null) {
    let u: URL | null = null;
    try {
      u = new URL(backendRaw);
    } catch {
      /* reported below */
    }
    if (!u || !['http:', 'https:'].includes(u.protocol) || !u.hostname || u.search || u.hash || u.username) {
      problems.push(
        `EDGE_BACKEND=${JSON.stringify(backendRaw)} must be the base URL of an Open Inference Protocol v2 server, like http://triton:8000 or https://edge2.example.com`,
      );
    } else backendUrl = u.href.replace(/\/+$/, '');
  }
  const backendToken = env.EDGE_BACKEND_TOKEN?.trim() || null;
  if (backendToken !== null && /\s/.test(backendToken)) problems.push('EDGE_BACKEND_TOKEN must not contain spaces');
  if (backendToken !== null && backendRaw === null) problems.push('EDGE_BACKEND_TOKEN is set but EDGE_BACKEND is not; set both or neither');

  const shmRaw = env.EDGE_SHARED_MEMORY?.trim().toLowerCase();
  let sharedMemory = DEFAULTS.EDGE_SHARED_MEMORY;
  if (shmRaw) {
    if ((SHARED_MEMORY_MODES as readonly string[]).includes(shmRaw)) sharedMemory = shmRaw as SharedMemoryMode;
    else problems.push(`EDGE_SHARED_MEMORY=${JSON.stringify(shmRaw)} must be off or loopback (clients on this host pass tensors in /dev/shm)`);
  }
  const shmDirRaw = env.EDGE_SHARED_MEMORY_DIR?.trim();
  if (shmDirRaw && !isAbsolute(shmDirRaw)) problems.push(`EDGE_SHARED_MEMORY_DIR=${JSON.stringify(shmDirRaw)} must be an absolute path`);

  const config: EdgeConfig = {
    port: int('PORT', 0, 65535),
    host,
    modelDir: dir('MODEL_DIR'),
    staticDir: dir('STATIC_DIR'),
    maxBodyBytes: int('MAX_BODY_BYTES', 1024, 1024 * 1024 * 1024),
    maxImagePixels: int('MAX_IMAGE_PIXELS', 1, 1_000_000_000),
    poolWorkers: int('POOL_WORKERS', 1, 64),
    intraOpThreads: int('ORT_INTRA_OP_THREADS', 1, 64),
    batchMaxSize: int('BATCH_MAX_SIZE', 1, 256),
    batchMaxDelayMs: int('BATCH_MAX_DELAY_MS', 0, 1000),
    logLevel,
    models,
    shutdownTimeoutMs: int('SHUTDOWN_TIMEOUT_MS', 0, 600_000),
    token,
    corsOrigins,
    rateLimitPerS: int('EDGE_RATE_LIMIT', 0, 1_000_000),
    rateBurst: int('EDGE_RATE_BURST', 1, 1_000_000),
    trustProxy: trustRaw === '1',
    backendUrl,
    backendToken,
    backendConcurrency: int('EDGE_BACKEND_CONCURRENCY', 1, 1024),
    backendTimeoutMs: int('EDGE_BACKEND_TIMEOUT_MS', 100, 600_000),
    sharedMemory,
    sharedMemoryDir: shmDirRaw || DEFAULTS.EDGE_SHARED_MEMORY_DIR,
    publicOrigins,
    maxPixelsInFlight: int('EDGE_MAX_PIXELS_IN_FLIGHT', 1, 4_000_000_000),
    pixelWaitMs: int('EDGE_PIXEL_WAIT_MS', 0, 60_000),
    maxUnbudgeted: int('EDGE_MAX_UNBUDGETED', 1, 100_000),
    maxOutputElements: int('EDGE_MAX_OUTPUT_ELEMENTS', 1, 1_000_000_000),
    maxJsonOutputElements: int('EDGE_MAX_JSON_OUTPUT_ELEMENTS', 1, 1_000_000_000),
    maxTensorBytes: int('EDGE_MAX_TENSOR_BYTES', 1024, 16 * 1024 * 1024 * 1024),
    headersTimeoutMs: int('EDGE_HEADERS_TIMEOUT_MS', 100, 600_000),
    requestTimeoutMs: int('EDGE_REQUEST_TIMEOUT_MS', 0, 3_600_000),
    bodyIdleTimeoutMs: int('EDGE_BODY_IDLE_TIMEOUT_MS', 0, 600_000),
  };
  if (config.maxPixelsInFlight < config.maxImagePixels) {
    problems.push(
      `EDGE_MAX_PIXELS_IN_FLIGHT=${config.maxPixelsInFlight} must be at least MAX_IMAGE_PIXELS=${config.maxImagePixels}, or the largest accepted image could never be decoded`,
    );
  }
  if (problems.length) throw new ConfigError(`invalid server settings:\n  ${problems.join('\n  ')}`);
  return config;
}
