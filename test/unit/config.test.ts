import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DEVELOPMENT_HOLDER_KEY_ENCRYPTION_KEY,
  loadConfig,
  SETTINGS,
  settingsTable,
} from '../../src/config.ts';

describe('loadConfig', () => {
  it('has defaults that make the embedded mode work', () => {
    const config = loadConfig({});
    expect(config.databaseUrl).toBe('file:./data/backpack.db');
    expect(config.port).toBe(3000);
    expect(config.migrateOnStart).toBe(true);
    expect(config.corsOrigins).toEqual([]);
    expect(config.publicUrl.href).toBe('http://localhost:3000/');
  });

  it('does not migrate PostgreSQL on start unless asked', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u@db/x' }).migrateOnStart).toBe(false);
    expect(loadConfig({ DATABASE_URL: 'postgresql://u@db/x', MIGRATE_ON_START: 'true' }).migrateOnStart).toBe(
      true,
    );
  });

  it('parses lists and booleans', () => {
    const config = loadConfig({
      CORS_ORIGINS: 'https://a.example, http://localhost:5173',
      DOCS_ENABLED: 'no',
    });
    expect(config.corsOrigins).toEqual(['https://a.example', 'http://localhost:5173']);
    expect(config.docsEnabled).toBe(false);
  });

  it('reads key documents over plain http only from the host:port entries listed', () => {
    expect(loadConfig({}).didWebHttpHosts).toEqual([]);
    expect(loadConfig({ DID_WEB_HTTP_HOSTS: 'Issuer.Test:8080, 127.0.0.1:9000' }).didWebHttpHosts).toEqual([
      'issuer.test:8080',
      '127.0.0.1:9000',
    ]);
    for (const bad of ['issuer.test', 'http://issuer.test:80', 'issuer.test:80/path', '*:80']) {
      expect(() => loadConfig({ DID_WEB_HTTP_HOSTS: bad }), bad).toThrow(/DID_WEB_HTTP_HOSTS/);
    }
  });

  it('trusts proxies by address, network or hop count, never blindly', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.1, 192.168.0.0/16, fd00::/8, Loopback' }).trustProxy).toEqual([
      '10.0.0.1',
      '192.168.0.0/16',
      'fd00::/8',
      'loopback',
    ]);
    for (const bad of ['true', 'yes', 'on', '11', 'proxy.example', '10.0.0.0/33', '10.0.0.1/8/2', ' , ']) {
      expect(() => loadConfig({ TRUST_PROXY: bad }), bad).toThrow(/TRUST_PROXY: expected false, a hop count/);
    }
  });

  it('bounds how long requests and connections may take', () => {
    expect(loadConfig({})).toMatchObject({
      requestTimeoutMs: 30_000,
      connectionTimeoutMs: 120_000,
      keepAliveTimeoutMs: 72_000,
    });
    expect(loadConfig({ REQUEST_TIMEOUT_MS: '5000' }).requestTimeoutMs).toBe(5000);
    expect(() => loadConfig({ REQUEST_TIMEOUT_MS: '0' })).toThrow(ConfigError);
  });

  it('names every offending variable and what it expects', () => {
    let error: unknown;
    try {
      loadConfig({
        DATABASE_URL: 'mysql://x',
        PORT: '70000',
        CORS_ORIGINS: 'https://a.example/path',
        LOG_LEVEL: 'loud',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.map((p) => p.variable).sort();
    expect(problems).toEqual(['CORS_ORIGINS', 'DATABASE_URL', 'LOG_LEVEL', 'PORT']);
    expect((error as ConfigError).message).toContain(
      'DATABASE_URL: expected file:<path>, postgres://... or postgresql://...',
    );
    expect((error as ConfigError).message).toContain(
      'PORT: expected an integer from 0 to 65535, got "70000"',
    );
  });

  it('refuses to run in production without mail unless mail is explicitly disabled', () => {
    let error: unknown;
    try {
      loadConfig({ NODE_ENV: 'production' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.variable)).toContain('SMTP_URL');
    expect((error as ConfigError).message).toContain('MAIL_DISABLED');
    const kek = { HOLDER_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64') };
    expect(loadConfig({ NODE_ENV: 'production', MAIL_DISABLED: 'true', ...kek }).mailDisabled).toBe(true);
    expect(
      loadConfig({ NODE_ENV: 'production', SMTP_URL: 'smtp://mail.example:25', ...kek }).production,
    ).toBe(true);
    expect(loadConfig({ NODE_ENV: 'development' }).production).toBe(false);
  });

  it('refuses to run in production without a holder key-encryption key, and takes only 32 bytes', () => {
    let error: unknown;
    try {
      loadConfig({ NODE_ENV: 'production', MAIL_DISABLED: 'true' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.variable)).toEqual(['HOLDER_KEY_ENCRYPTION_KEY']);
    const key = randomBytes(32);
    expect(
      loadConfig({
        NODE_ENV: 'production',
        MAIL_DISABLED: 'true',
        HOLDER_KEY_ENCRYPTION_KEY: key.toString('base64'),
      }).holderKeyEncryptionKey,
    ).toEqual(key);
    for (const bad of [
      randomBytes(16).toString('base64'),
      randomBytes(33).toString('base64'),
      'not base64 at all!!',
    ]) {
      expect(() => loadConfig({ HOLDER_KEY_ENCRYPTION_KEY: bad })).toThrow(/HOLDER_KEY_ENCRYPTION_KEY/);
    }
    // Outside production a published development key stands in, so that a first run needs no setup.
    expect(loadConfig({}).holderKeyEncryptionKey).toEqual(DEVELOPMENT_HOLDER_KEY_ENCRYPTION_KEY);
  });

  it('refuses a PostgreSQL URL that does not parse', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://[bad' })).toThrow(ConfigError);
  });

  it('is documented: the README shows the settings table as the code defines it', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(settingsTable());
    for (const setting of Object.values(SETTINGS)) expect(readme).toContain(`| \`${setting.variable}\` |`);
  });
});
