/**
 * Debian's HAProxy in front of edge replicas, as a deployment would run it (edge-server/README.md "Past one machine"):
 * health checks on /v2/health/ready, connection failures and replies lost with a dying replica retried on another
 * one, and whatever still cannot be answered turned into a JSON 503 with Retry-After, which the page treats as a
 * refusal (it reads the photo itself) instead of a failure.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, sleep } from './edge-process';

export interface HaproxyConfigOptions {
  port: number;
  servers: { name: string; port: number }[];
  /** File served (as raw HTTP) when no replica could answer: a 503 the client reads as a refusal. */
  unavailableFile: string;
  host?: string;
  /** Health-check interval; two failed checks take a replica out, two good ones put it back. */
  checkIntervalMs?: number;
}

/** A 503 in HAProxy's errorfile format: status line, headers, blank line, body. */
export const UNAVAILABLE_REPLY = [
  'HTTP/1.1 503 Service Unavailable',
  'Content-Type: application/json',
  'Cache-Control: no-store',
  'Retry-After: 1',
  'Connection: close',
  '',
  '{"error":"no edge replica could answer this request; read it on the device or retry","code":"ReplicaUnavailable"}',
  '',
].join('\r\n');

export function haproxyConfig(o: HaproxyConfigOptions): string {
  const inter = o.checkIntervalMs ?? 1000;
  return `global
  maxconn 1024
  # A request is retried on another replica only when it is held whole; photos are up to a few MB.
  tune.bufsize 4194304

defaults
  mode http
  timeout connect 1s
  timeout client 60s
  timeout server 60s
  timeout http-request 30s
  # A replica that refuses the connection or dies before replying (killed, crashed): ask another replica,
  # a different one on each try. /v1/ocr is a pure function of the request, so re-sending it is safe.
  retries 2
  option redispatch 1
  retry-on conn-failure empty-response junk-response
  option http-buffer-request
  # Replicas see the phone's address (set EDGE_TRUST_PROXY=1 on them).
  option forwardfor
  # What no replica could answer becomes a refusal the page acts on at once (it has the photo and its budget).
  errorfile 502 ${o.unavailableFile}
  errorfile 503 ${o.unavailableFile}
  errorfile 504 ${o.unavailableFile}

frontend edge
  bind ${o.host ?? '127.0.0.1'}:${o.port}
  default_backend replicas

backend replicas
  balance leastconn
  option httpchk GET /v2/health/ready
  http-check expect status 200
  default-server check inter ${inter} fall 2 rise 2 observe layer4 error-limit 1 on-error mark-down
${o.servers.map((s) => `  server ${s.name} 127.0.0.1:${s.port}`).join('\n')}
`;
}

/** The haproxy binary, or null when it is not installed (e2e/ensure-haproxy.sh installs it where it can). */
export function findHaproxy(): string | null {
  for (const path of ['/usr/sbin/haproxy', '/usr/local/sbin/haproxy', '/usr/bin/haproxy']) if (existsSync(path)) return path;
  const which = spawnSync('sh', ['-c', 'command -v haproxy'], { encoding: 'utf8' });
  return which.status === 0 && which.stdout.trim() ? which.stdout.trim() : null;
}

export interface Haproxy {
  base: string;
  child: ChildProcess;
  config: string;
  stop(): Promise<void>;
}

/** Starts HAProxy in the foreground with its config in a temporary folder; resolves once the front answers ready. */
export async function startHaproxy(binary: string, servers: { name: string; port: number }[], options: { checkIntervalMs?: number } = {}): Promise<Haproxy> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-haproxy-'));
  const unavailableFile = join(dir, '503.http');
  await writeFile(unavailableFile, UNAVAILABLE_REPLY);
  const port = await freePort();
  const config = haproxyConfig({ port, servers, unavailableFile, ...options });
  const file = join(dir, 'haproxy.cfg');
  await writeFile(file, config);
  const child = spawn(binary, ['-db', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const base = `http://127.0.0.1:${port}`;
  for (const until = Date.now() + 20_000; Date.now() < until;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`haproxy exited with ${child.exitCode}: ${stderr}`);
    }
    try {
      if ((await fetch(`${base}/v2/health/ready`)).ok) return { base, child, config, stop };
    } catch {
      // Not listening yet.
    }
    await sleep(200);
  }
  await stop();
  throw new Error(`haproxy not ready in time: ${stderr}`);
}
