// Process entry: read config, migrate the embedded database if asked, build the app, listen,
// and shut down with grace on SIGTERM/SIGINT.
import { buildApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { migrateInChildProcess } from './db/migrate-process.ts';

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }

  if (config.migrateOnStart) {
    try {
      const applied = await migrateInChildProcess(config.databaseUrl);
      if (applied.length > 0) process.stderr.write(`applied migrations: ${applied.join(', ')}\n`);
    } catch (err) {
      process.stderr.write(`Cannot migrate the database at DATABASE_URL: ${(err as Error).message}\n`);
      process.exit(1);
    }
  }

  // Without SMTP (outside production) the console is where a first run reads its sign-in links.
  const app = await buildApp({ config, mailConsole: process.stderr });
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    // In-flight requests get shutdownTimeoutMs to finish; then the process goes regardless.
    const timer = setTimeout(() => {
      app.log.warn('shutdown timeout reached; exiting with requests still in flight');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));

  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    app.log.fatal({ err }, 'cannot listen');
    process.exit(1);
  }
  // Jobs run only in a serving process, never in an app built by tests or scripts.
  app.services.scheduler.start();
}

await main();
