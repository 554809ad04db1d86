// Memory of the account export: a backpack of EXPORT_BADGES badges (100,000 by default), each
// with its image, exported by the production server (same heap settings as `npm start`) while
// the client reads the stream without keeping it. Reports the server's peak RSS before and
// during the export, the document's size and the time taken.
//   npx tsx bench/export-memory.ts [--db=sqlite|postgres] [--badges=20000]
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { applyMigrations } from '../src/db/migrations.ts';
import { createBenchDatabase } from './support/database.ts';
import { startIssuer } from './support/issuer.ts';
import { cloneBadges, seedBackpack } from './support/seed.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const args = process.argv.slice(2);
const kind = (args.find((a) => a.startsWith('--db='))?.slice(5) ?? 'sqlite') as 'sqlite' | 'postgres';
const badges = Number(args.find((a) => a.startsWith('--badges='))?.slice(9) ?? 100_000);
const IMAGE_BYTES = 16 * 1024;

function peakRssMb(child: ChildProcess): number {
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

const issuer = await startIssuer();
const db = await createBenchDatabase(kind, 'backpack_export_bench');
const payloadDir = mkdtempSync(join(tmpdir(), 'backpack-export-bench-payloads-'));
let child: ChildProcess | undefined;
try {
  await applyMigrations(db.url);
  const env = { DATABASE_URL: db.url, FETCH_ALLOW_PRIVATE_HOSTS: issuer.host, RATE_LIMIT_MAX: '1000000' };
  const app = await buildApp({ config: loadConfig({ ...env, LOG_LEVEL: 'warn' }) });
  let cookie: string;
  let smallCookie: string;
  try {
    // 100 badges through the real ingestion path, then their rows cloned, images included.
    const seeded = await seedBackpack(app, issuer, 100);
    const big = await cloneBadges(app, seeded.earnerId, badges);
    const seededImage = await app.db.prisma.badgeImage.findFirstOrThrow({
      where: { item: { earnerId: seeded.earnerId } },
    });
    // The issuer's image is tiny; badges in use carry images of some kilobytes. The export
    // copies the stored bytes as they are, so filler after the PNG is enough to give them weight.
    const image = {
      ...seededImage,
      bytes: new Uint8Array(Buffer.concat([seededImage.bytes, randomBytes(IMAGE_BYTES)])),
    };
    const items = await app.db.prisma.backpackItem.findMany({
      where: { earnerId: big.earnerId },
      select: { id: true },
    });
    for (let at = 0; at < items.length; at += 1000) {
      await app.db.prisma.badgeImage.createMany({
        data: items.slice(at, at + 1000).map(({ id }) => ({
          itemId: id,
          contentType: image.contentType,
          bytes: image.bytes,
          sha256: image.sha256,
        })),
      });
    }
    await app.db.prisma.backpackItem.updateMany({
      where: { earnerId: big.earnerId },
      data: { imageType: image.contentType },
    });
    cookie = big.cookie;
    smallCookie = seeded.cookie;
    console.log(`seeded ${items.length} badges with a ${image.bytes.length}-byte image each (${kind})`);
  } finally {
    await app.close();
  }

  const payloads = join(payloadDir, 'payloads.json');
  writeFileSync(payloads, JSON.stringify({ list: {}, shareJson: {}, shareHtml: '' }));
  const port = 20000 + Math.floor(Math.random() * 20000);
  child = spawn(
    process.execPath,
    ['--max-old-space-size=160', '--max-semi-space-size=8', '--import', 'tsx', 'bench/server.ts'],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        ...env,
        BENCH_PAYLOADS: payloads,
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        MIGRATE_ON_START: 'false',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  // A loaded machine takes its time to start the server.
  for (let i = 0; i < 1200; i++) {
    if (child.exitCode !== null) throw new Error('the server did not start');
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  // A small export first (100 badges), so that the figure before includes the export's code paths.
  await (
    await fetch(`${url}/v1/account/export`, {
      headers: { cookie: smallCookie, origin: 'http://localhost:3000' },
    })
  ).text();
  const idle = peakRssMb(child);
  const started = performance.now();
  const res = await fetch(`${url}/v1/account/export`, {
    headers: { cookie, origin: 'http://localhost:3000' },
  });
  if (res.status !== 200 || !res.body) throw new Error(`the export answered ${res.status}`);
  let bytes = 0;
  let peak = idle;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.length;
    peak = Math.max(peak, peakRssMb(child));
  }
  const seconds = (performance.now() - started) / 1000;
  peak = Math.max(peak, peakRssMb(child));
  console.log(
    JSON.stringify({
      database: kind,
      badges,
      exportMb: Number((bytes / 1024 / 1024).toFixed(1)),
      seconds: Number(seconds.toFixed(1)),
      contentLength: res.headers.get('content-length'),
      peakRssBeforeMb: Math.round(idle),
      peakRssDuringExportMb: Math.round(peak),
    }),
  );
} finally {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child?.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  rmSync(payloadDir, { recursive: true, force: true });
  await db.drop();
  await issuer.close();
}
