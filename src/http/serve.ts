import { once } from 'node:events';
import type { Server } from 'node:http';
import { connectRedis, type Runtime } from '../runtime.js';
import { createApp } from './app.js';

export interface RunningServer {
  server: Server;
  url: string;
  stop(): Promise<void>;
}

/** Starts the HTTP service and returns once it listens; `stop` drains in-flight requests first. */
export async function serve(runtime: Runtime): Promise<RunningServer> {
  const { config, log, pool } = runtime;
  const redis = connectRedis(config.redisUrl);
  redis.on('error', (err) => log.warn({ err: { message: err.message } }, 'redis connection error'));
  const app = createApp({ config, pool, redis, log, admin: runtime, onMarked: (tenantId, userIds, change) => void runtime.onMarked(tenantId, userIds, change) });
  const server = app.listen(config.port, config.host);
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host}:${port}`;
  log.info({ url, publicBaseUrl: config.publicBaseUrl }, 'lanyard listening');
  return {
    server,
    url,
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), config.shutdownGraceMs);
      await closed;
      clearTimeout(timer);
      redis.disconnect();
    },
  };
}
