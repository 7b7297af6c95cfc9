/**
 * @module demo/start-demo: three demo backends and a gateway in front of them, for `npm start`.
 * Health checks are tight (1 s, fall 1) so a stopped backend is routed around within seconds.
 */
import { createAdminHandler } from '../admin/index.js';
import { stickySecretFromEnv, validateConfig } from '../config/index.js';
import { Gateway } from '../gateway/index.js';
import { startDemoBackend, type DemoBackend } from './demo-backend.js';

export interface RunningDemo {
  readonly url: string;
  readonly gateway: Gateway;
  readonly backends: readonly DemoBackend[];
  close(): Promise<void>;
}

export async function startDemo(options: { port: number; host?: string | undefined }): Promise<RunningDemo> {
  const backends = await Promise.all(['backend-1', 'backend-2', 'backend-3'].map((name, i) => startDemoBackend(name, i)));
  const config = validateConfig({
    port: options.port,
    host: options.host ?? '127.0.0.1',
    strategy: 'round-robin',
    backends: backends.map((b, i) => ({ id: b.name, url: b.url, weight: i === 0 ? 2 : 1 })),
    health: { interval: 1000, timeout: 800, path: '/health', algorithm: 'http-status', rise: 2, fall: 1 },
    sticky: { cookie: 'keyway_sticky', secret: stickySecretFromEnv() ?? 'keyway-demo-secret-not-for-production' },
    shutdownGraceMs: 2000,
  });
  const gateway = new Gateway(config, { admin: createAdminHandler });
  const { port, host } = await gateway.listen();
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/`,
    gateway,
    backends,
    async close() {
      await gateway.close();
      await Promise.all(backends.map((b) => b.close()));
    },
  };
}
