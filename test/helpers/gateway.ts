/** Starts a real gateway on 127.0.0.1:0 with a quiet logger and a fixed sticky secret. */
import { createGateway, type Gateway, type GatewayOptions } from '../../src/index.js';
import { silentLogger } from '../../src/observe/index.js';

export interface Started {
  gateway: Gateway;
  port: number;
  close(): Promise<void>;
}

export async function startGateway(config: Record<string, unknown>, options: Omit<GatewayOptions, 'admin' | 'logger'> = {}): Promise<Started> {
  const sticky = config.sticky === false ? false : { secret: 'test-secret', ...(config.sticky as object | undefined) };
  const gateway = createGateway(
    {
      host: '127.0.0.1',
      port: 0,
      ...config,
      health: { interval: 60_000, path: '/health', ...(config.health as object | undefined) },
      sticky,
    },
    { logger: silentLogger(), ...options },
  );
  const { port } = await gateway.listen();
  return { gateway, port, close: () => gateway.close() };
}
