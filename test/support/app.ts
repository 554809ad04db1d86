import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { type Config, loadConfig } from '../../src/config.ts';
import type { Database } from '../../src/db/client.ts';

/** The same configuration path as production: environment strings through loadConfig. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    LOG_LEVEL: 'silent',
    DATABASE_URL: 'file:./data/unused.db',
    // Suites register many clients from one loopback address; the limit has its own tests.
    CLIENT_REGISTRATIONS_PER_NETWORK_PER_HOUR: '10000',
    ...env,
  });
}

export async function testApp(db: Database, env: Record<string, string> = {}): Promise<FastifyInstance> {
  const app = await buildApp({ config: testConfig(env), db });
  await app.ready();
  return app;
}
