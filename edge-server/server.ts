/** Entry point: `npm run serve` (or `npm start` to build the web app first). Settings come from the environment (config.ts). */
import { networkInterfaces } from 'node:os';
import { ConfigError, parseConfig } from './config';
import { startEdge } from './edge';
import { listen } from './http/listen';
import { createLogger } from './log';
import { RepositoryError } from './model-repository';

function urls(host: string, port: number): string[] {
  if (host !== '0.0.0.0' && host !== '::') return [`http://${host.includes(':') ? `[${host}]` : host}:${port}/`];
  const lan = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a && a.family === 'IPv4' && !a.internal)
    .map((a) => `http://${a!.address}:${port}/`);
  return [`http://localhost:${port}/`, ...lan];
}

async function main(): Promise<void> {
  let config;
  try {
    config = parseConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(2);
    }
    throw e;
  }
  const log = createLogger(config.logLevel);
  const started = performance.now();
  let edge;
  try {
    edge = await startEdge(config, log);
  } catch (e) {
    if (e instanceof RepositoryError) {
      console.error(e.message);
      process.exit(2);
    }
    throw e;
  }
  let http;
  try {
    http = await listen(edge.app, config.port, config.host, config);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    console.error(
      err.code === 'EADDRINUSE'
        ? `port ${config.port} on ${config.host} is in use; stop the other server or set PORT`
        : `cannot listen on ${config.host}:${config.port}: ${err.message}`,
    );
    await edge.close(0);
    process.exit(1);
  }
  const status = edge.pool.status();
  log.info('edge server ready', {
    ms: Math.round(performance.now() - started),
    workers: status.pool.workers,
    intraOpThreads: status.pool.intraOpThreads,
    models: status.models.map((m) => `${m.name}:${m.state}`),
    ...(config.backendUrl ? { backend: config.backendUrl } : {}),
  });
  console.log(
    `Tandem edge server listening on\n${urls(config.host, http.port)
      .map((u) => `  ${u}`)
      .join('\n')}`,
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      log.warn('second signal: exiting without waiting', { signal });
      process.exit(1);
    }
    stopping = true;
    log.info('shutting down: no new connections, finishing requests in progress', { signal });
    await http.close(config.shutdownTimeoutMs);
    await edge.close(config.shutdownTimeoutMs);
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

await main();
