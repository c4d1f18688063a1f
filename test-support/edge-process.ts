/**
 * The edge server as deployed: its own Node process on loopback (`edge-server/server.ts`), for benches and browser
 * flows that must measure or fault the real thing rather than an in-process app.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from './shared-set';

export interface EdgeProcess {
  base: string;
  port: number;
  child: ChildProcess;
}

/** A port free on 127.0.0.1 right now (the OS picks it; a race with another process is possible but rare). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Starts the server with `env` on a free port (or `port`) and resolves once `/v2/health/ready` answers; stderr is
 * inherited so a failing start says why, or handed line by line to `onStderr` (the server's log) when given.
 */
export async function startEdgeProcess(
  env: Record<string, string> = {},
  options: { port?: number; readyTimeoutMs?: number; onStderr?: (line: string) => void } = {},
): Promise<EdgeProcess> {
  const port = options.port ?? (await freePort());
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'edge-server/server.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: 'error', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', options.onStderr ? 'pipe' : 'inherit'],
  });
  if (options.onStderr) createInterface({ input: child.stderr! }).on('line', options.onStderr);
  for (const until = Date.now() + (options.readyTimeoutMs ?? 90_000); Date.now() < until;) {
    if (child.exitCode !== null) throw new Error(`edge server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${base}/v2/health/ready`)).ok) return { base, port, child };
    } catch {
      // Not listening yet.
    }
    await sleep(200);
  }
  child.kill('SIGKILL');
  throw new Error('edge server not ready in time');
}

/** Graceful stop; a second signal skips an abandoned backlog, and a server that hangs is killed after 10 s. */
export async function stopEdgeProcess(s: EdgeProcess): Promise<void> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return;
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGINT');
  await sleep(50);
  s.child.kill('SIGINT');
  const timer = setTimeout(() => s.child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
