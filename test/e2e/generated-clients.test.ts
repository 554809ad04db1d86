// Clients generated from openapi.yaml by two generators the service does not use itself
// (oazapfts and swagger-typescript-api) compile under `tsc --strict`, and a front end written
// against one of them makes an earner's whole journey against the real server on a loopback
// port, through Prism's validating proxy: every request and answer must match the contract.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { type Database, openDatabase } from '../../src/db/client.ts';
import { bakeSvg } from '../../src/modules/openbadges/index.ts';
import { testConfig } from '../support/app.ts';
import { LocalIssuer, PLAIN_SVG } from '../support/badge-issuer.ts';
import { createMigratedDatabase } from '../support/databases.ts';
import { lastCodeFor } from '../support/mail.ts';
import { freePort, PROJECT_ROOT } from '../support/server.ts';

const run = promisify(execFile);
const bin = (name: string) => join(PROJECT_ROOT, 'node_modules', '.bin', name);
const CONTRACT = join(PROJECT_ROOT, 'openapi.yaml');
/** The front end's own origin, allowed by CORS_ORIGINS as a deployed front end would be. */
const FRONT_END = 'http://localhost:5173';

/** What front-end/scenario.ts takes and gives (its types come from the generated client). */
interface World {
  baseUrl: string;
  fetch: typeof fetch;
  email: string;
  signInCode: (email: string) => string;
  hostedBadges: string[];
  bakedSvg: string;
}
interface Journey {
  pages: { ids: string[]; total: number; link: string | null }[];
  revalidated: number;
  uploaded: { id: string; name: string };
  group: { badges: { id: string; name: string }[] };
  shared: { badges: { name: string }[] };
  exported: { addresses: { email: string }[]; sections: Record<string, unknown[]> };
  holderDids: { did: string; method: string }[];
  presentationStatus: number;
}

/** The violations Prism reported, one entry per exchange that had any. */
interface Violation {
  request: string;
  violations: unknown;
}

/** A fetch that behaves like the browser a front end runs in: it keeps cookies and sends Origin. */
function browser(violations: Violation[]): { fetch: typeof fetch; cookies: Map<string, string> } {
  const jar = new Map<string, string>();
  const browserFetch: typeof fetch = async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    const headers = new Headers(init?.headers);
    headers.set('origin', FRONT_END);
    if (jar.size > 0) {
      headers.set('cookie', [...jar].map(([name, value]) => `${name}=${value}`).join('; '));
    }
    const res = await fetch(url, { ...init, headers });
    for (const cookie of res.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /max-age=0\b|expires=thu, 01 jan 1970/i.test(cookie)) jar.delete(name);
      else jar.set(name, value);
    }
    const reported = res.headers.get('sl-violations');
    if (reported) {
      violations.push({ request: `${init?.method ?? 'GET'} ${url}`, violations: JSON.parse(reported) });
    }
    return res;
  };
  return { fetch: browserFetch, cookies: jar };
}

async function startPrism(
  upstream: string,
): Promise<{ url: string; child: ChildProcess; output: () => string }> {
  const port = await freePort();
  const child = spawn(
    bin('prism'),
    ['proxy', CONTRACT, upstream, '--host', '127.0.0.1', '--port', String(port)],
    { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prism exited:\n${output}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`prism did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { url, child, output: () => output };
}

describe('clients generated from openapi.yaml', () => {
  let dir: string;
  let compiled: { ok: boolean; output: string };
  let app: FastifyInstance;
  let db: Database;
  let drop: () => Promise<void>;
  let issuer: LocalIssuer;
  let prism: Awaited<ReturnType<typeof startPrism>>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'backpack-clients-'));
    // The generated code imports its runtimes as any project would, from node_modules.
    symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    await run(bin('oazapfts'), [CONTRACT, join(dir, 'backpack-client.ts')]);
    await run(bin('swagger-typescript-api'), [
      'generate',
      '--path',
      CONTRACT,
      '--output',
      dir,
      '--name',
      'sta-client.ts',
      '--silent',
    ]);
    for (const file of ['scenario.ts', 'typing.ts']) {
      copyFileSync(new URL(`./front-end/${file}`, import.meta.url), join(dir, file));
    }
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          allowImportingTsExtensions: true,
          lib: ['ES2022', 'DOM', 'DOM.Iterable'],
          types: [],
          skipLibCheck: true,
        },
        files: ['backpack-client.ts', 'sta-client.ts', 'scenario.ts', 'typing.ts'],
      }),
    );
    compiled = await run(bin('tsc'), ['-p', dir]).then(
      ({ stdout }) => ({ ok: true, output: stdout }),
      (err: { stdout?: string; message: string }) => ({ ok: false, output: err.stdout || err.message }),
    );

    issuer = await LocalIssuer.start();
    const created = await createMigratedDatabase('sqlite');
    drop = created.drop;
    db = await openDatabase(created.url);
    const port = await freePort();
    app = await buildApp({
      config: testConfig({
        PUBLIC_URL: `http://127.0.0.1:${port}`,
        CORS_ORIGINS: FRONT_END,
        FETCH_ALLOW_PRIVATE_HOSTS: issuer.hostPort,
      }),
      db,
      logger: false,
    });
    await app.listen({ host: '127.0.0.1', port });
    prism = await startPrism(`http://127.0.0.1:${port}`);
  }, 180_000);

  afterAll(async () => {
    prism?.child.kill('SIGTERM');
    await app?.close();
    await db?.close();
    await drop?.();
    await issuer?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('compile under tsc --strict, with the types a front end needs', () => {
    expect(compiled.output).toBe('');
    expect(compiled.ok).toBe(true);
  });

  it('let a front end sign in, add, page, group, share, export and delete, within the contract', async () => {
    expect(compiled.ok).toBe(true);
    const violations: Violation[] = [];
    const email = `front.end.${Date.now()}@example.org`;
    const { journey } = (await import(pathToFileURL(join(dir, 'scenario.ts')).href)) as {
      journey: (world: World) => Promise<Journey>;
    };
    const signed = await issuer.signed(email, { name: 'Baked badge' });
    const frontEnd = browser(violations);
    const world: World = {
      baseUrl: prism.url,
      fetch: frontEnd.fetch,
      email,
      signInCode: (address) => lastCodeFor(app, address),
      hostedBadges: ['First', 'Second', 'Third'].map((name) => issuer.hosted(email, { name }).url),
      bakedSvg: bakeSvg(PLAIN_SVG, signed.jws, '2.0'),
    };

    const seen = await journey(world);

    expect(violations, prism.output()).toEqual([]);
    expect(seen.pages.map((p) => p.ids.length)).toEqual([3, 1]);
    expect(seen.pages.every((p) => p.total === 4)).toBe(true);
    expect(seen.pages[0]?.link).toMatch(/rel="next"/);
    expect(new Set(seen.pages.flatMap((p) => p.ids)).size).toBe(4);
    expect(seen.revalidated).toBe(304);
    expect(seen.uploaded.name).toBe('Baked badge');
    expect(seen.group.badges.map((b) => b.name)).toEqual(['Baked badge', 'First', 'Second', 'Third']);
    expect(seen.shared.badges.map((b) => b.name)).toEqual(['Baked badge', 'First', 'Second', 'Third']);
    expect(seen.exported.sections.badges).toHaveLength(4);
    expect(seen.holderDids.map((d) => d.method)).toEqual(['did:jwk']);
    expect(seen.presentationStatus).toBe(422);
    expect(seen.exported.sections.holderDids).toEqual([
      expect.objectContaining({ did: seen.holderDids[0]?.did, publicKeyMultibase: expect.any(String) }),
    ]);
    expect(seen.exported.addresses.map((a) => a.email)).toEqual([email]);
    // The account is gone, and the browser holds no session any more.
    expect(await db.prisma.emailAddress.count({ where: { address: email } })).toBe(0);
    expect(frontEnd.cookies.has(app.services.accounts.cookieName)).toBe(false);
  }, 120_000);
});
