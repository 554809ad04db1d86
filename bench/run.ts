// npm run bench: the scenarios of the performance targets, on SQLite and on PostgreSQL, each
// ratio measured side by side in one run (server pinned to core 0, load generator to core 1),
// medians of several rounds. Writes bench/results/latest.{json,md} and a chart (SVG).
//   --quick         short runs (a smoke check of the harness, not figures to publish)
//   --db=sqlite     one database only (sqlite | postgres)
//   --profile       write a V8 CPU profile of the server to bench/results/profiles/
//   --push-only     S3 (pushes against the peer) only, on a backpack of 100 badges
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { applyMigrations } from '../src/db/migrations.ts';
import { benchEngine } from './engine.ts';
import { createBenchDatabase, POSTGRES_SERVER } from './support/database.ts';
import { type LocalIssuer, startIssuer } from './support/issuer.ts';
import { type Row, renderChart, renderMarkdown } from './support/report.ts';
import { cloneBadges, type SeededBackpack, seedBackpack } from './support/seed.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const args = new Set(process.argv.slice(2));
const QUICK = args.has('--quick');
const ONLY_DB = [...args].find((a) => a.startsWith('--db='))?.slice(5);
const DURATION = QUICK ? 2 : 10;
const WARMUP = QUICK ? 1 : 4;
const ROUNDS = QUICK ? 1 : 3;
const PROFILE = args.has('--profile');
const PUSH_ONLY = args.has('--push-only');

// The load generator runs on core 1; the server is started on core 0.
if (!process.env.BENCH_PINNED && spawnSync('taskset', ['-V']).status === 0) {
  const child = spawnSync(
    'taskset',
    ['-c', '1', process.execPath, ...process.execArgv, ...process.argv.slice(1)],
    {
      stdio: 'inherit',
      env: { ...process.env, BENCH_PINNED: '1' },
    },
  );
  process.exit(child.status ?? 1);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

interface Load {
  rps: number;
  mean: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  /** Count per HTTP status, e.g. "201:2300 422:12". */
  statuses: string;
}

async function load(url: string, opts: Partial<autocannon.Options> = {}, seconds = DURATION): Promise<Load> {
  const base = { url, connections: 32, pipelining: 1, ...opts };
  await autocannon({ ...base, duration: WARMUP });
  const r = await autocannon({ ...base, duration: seconds });
  const codes =
    (r as unknown as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats ?? {};
  return {
    rps: r.requests.average,
    mean: r.latency.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    statuses: Object.entries(codes)
      .map(([code, stat]) => `${code}:${stat.count}`)
      .join(' '),
  };
}

async function startServer(
  env: Record<string, string>,
  script = 'bench/server.ts',
): Promise<{ url: string; child: ChildProcess; peakRssMb: () => number }> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const profile = PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${join(ROOT, 'bench/results/profiles')}`] : [];
  // The same V8 memory settings as `npm start` and the container.
  const memory = ['--max-old-space-size=160', '--max-semi-space-size=8'];
  const child = spawn(
    'taskset',
    ['-c', '0', process.execPath, ...memory, ...profile, '--import', 'tsx', script],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        ...env,
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        MIGRATE_ON_START: 'false',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  // A loaded machine can take tens of seconds to compile and start a server.
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`${script} did not start`);
    if (i === 1200) {
      child.kill('SIGTERM');
      throw new Error(`${script} did not answer within two minutes`);
    }
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  // taskset execs node, so the child's pid is the server's.
  const peakRssMb = () => {
    if (child.exitCode !== null) throw new Error('the benchmark server exited during the run');
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  };
  return { url, child, peakRssMb };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** The earner who receives the pushes, the same on both databases so that one pool serves both. */
const PUSH_EARNER = 'bench.pusher@example.org';

/**
 * Signed assertions for S3 and S4, each one new, signed once for the run while no load runs, so
 * that the load generator's core spends nothing on RSA during a scenario.
 */
let pushPool: string[] | null = null;
function signedPushes(issuer: LocalIssuer): string[] {
  pushPool ??= Array.from({ length: QUICK ? 2000 : 24_000 }, (_, i) =>
    JSON.stringify({ assertion: issuer.signed(100_000 + i, PUSH_EARNER) }),
  );
  return pushPool;
}

async function benchDatabase(kind: 'sqlite' | 'postgres', issuer: LocalIssuer, rows: Row[]): Promise<void> {
  console.log(`\n== ${kind}`);
  const database = await createBenchDatabase(kind, 'backpack_bench');
  const payloadDir = mkdtempSync(join(tmpdir(), 'backpack-bench-payloads-'));
  try {
    await applyMigrations(database.url);
    const env = {
      DATABASE_URL: database.url,
      FETCH_ALLOW_PRIVATE_HOSTS: issuer.host,
      RATE_LIMIT_MAX: '1000000',
      // Tens of thousands of pushes in minutes: the hourly allowance per account is not measured here.
      UPLOAD_BYTES_PER_ACCOUNT_PER_HOUR: '10737418240',
    };
    // Seed through the real ingestion path, then clone rows for the large backpacks.
    const app = await buildApp({ config: loadConfig({ ...env, LOG_LEVEL: 'warn' }) });
    let seeded: SeededBackpack;
    try {
      seeded = await seedBackpack(app, issuer, 100, PUSH_EARNER);
      const big10k = PUSH_ONLY ? null : await cloneBadges(app, seeded.earnerId, 10_000);
      const big100k = QUICK || PUSH_ONLY ? null : await cloneBadges(app, seeded.earnerId, 100_000);
      // A thousand earners in all, created a few at a time (the connection pool is small).
      const crowd: { cookie: string }[] = [];
      for (let i = 0; !QUICK && !PUSH_ONLY && i < 999; i += 20) {
        const batch = Array.from({ length: Math.min(20, 999 - i) }, () =>
          cloneBadges(app, seeded.earnerId, 100),
        );
        crowd.push(...(await Promise.all(batch)));
      }
      seeded.growth = {
        ...(big10k ? { '10000': big10k.cookie } : {}),
        ...(big100k ? { '100000': big100k.cookie } : {}),
      };
      seeded.crowd = crowd.map((c) => c.cookie);
    } finally {
      await app.close();
    }
    const payloadFile = join(payloadDir, 'payloads.json');
    writeFileSync(payloadFile, JSON.stringify(seeded.payloads));

    const server = await startServer({ ...env, BENCH_PAYLOADS: payloadFile });
    try {
      const cookie = { headers: { cookie: seeded.cookie } };
      const s0: Load[] = [];
      const s1: Load[] = [];
      for (let round = 0; round < ROUNDS && !PUSH_ONLY; round++) {
        s0.push(await load(`${server.url}/bench/memory/list`));
        s1.push(await load(`${server.url}/v1/badges?limit=100`, cookie));
      }
      if (!PUSH_ONLY) {
        const s0rps = median(s0.map((l) => l.rps));
        const s1rps = median(s1.map((l) => l.rps));
        rows.push({ db: kind, scenario: 'S0 list from memory', value: s0rps, unit: 'req/s' });
        rows.push({
          db: kind,
          scenario: 'S1 list 100 badges (cookie)',
          value: s1rps,
          unit: 'req/s',
          ratio: s1rps / s0rps,
          target: kind === 'sqlite' ? 0.5 : 0.4,
          extra: `p99 ${median(s1.map((l) => l.p99))} ms (target < 25 ms); errors ${s1.reduce((a, l) => a + l.errors + l.non2xx, 0)}`,
        });

        for (const [label, real, memory, accept] of [
          [
            'S2 share page JSON (20 badges)',
            `/share/${seeded.shareToken}`,
            '/bench/memory/share.json',
            'application/json',
          ],
          [
            'S2 share page HTML (20 badges)',
            `/share/${seeded.shareToken}`,
            '/bench/memory/share.html',
            'text/html',
          ],
        ] as const) {
          const mem: number[] = [];
          const act: number[] = [];
          for (let round = 0; round < ROUNDS; round++) {
            mem.push((await load(`${server.url}${memory}`, { headers: { accept } })).rps);
            act.push((await load(`${server.url}${real}`, { headers: { accept } })).rps);
          }
          rows.push({
            db: kind,
            scenario: label,
            value: median(act),
            unit: 'req/s',
            ratio: median(act) / median(mem),
            target: 0.6,
          });
        }
      }

      // S3: issuer pushes of signed assertions through Badge Connect, each one new (until the
      // pool wraps), against the hand-written peer (bench/peer.ts) in alternating rounds.
      const pool = signedPushes(issuer);
      let pushed = 0;
      const pushRequest = (req: autocannon.Request): autocannon.Request => {
        const body = pool[pushed % pool.length] ?? '';
        pushed += 1;
        return { ...req, body };
      };
      const pushHeaders = { authorization: `Bearer ${seeded.pushToken}`, 'content-type': 'application/json' };
      const peer = await startServer(
        {
          DATABASE_URL: database.url,
          PEER_TOKEN: seeded.pushToken,
          PEER_EMAIL: PUSH_EARNER,
          PEER_KEY_URL: `${issuer.origin}/key`,
        },
        'bench/peer.ts',
      );
      const s3: Load[] = [];
      const s3peer: Load[] = [];
      try {
        for (const target of [peer.url, server.url]) {
          const probe = await fetch(`${target}/ims/ob/v2p1/assertions`, {
            method: 'POST',
            headers: pushHeaders,
            body: pushRequest({}).body as string,
          });
          if (!probe.ok)
            console.warn(`a push answered ${probe.status}: ${(await probe.text()).slice(0, 400)}`);
        }
        const pushLoad = (base: string) =>
          load(`${base}/ims/ob/v2p1/assertions`, {
            method: 'POST',
            headers: pushHeaders,
            requests: [{ setupRequest: pushRequest }],
          });
        for (let round = 0; round < ROUNDS; round++) {
          s3peer.push(await pushLoad(peer.url));
          s3.push(await pushLoad(server.url));
        }
      } finally {
        await stop(peer.child);
      }
      const pushSummary = (loads: Load[]) =>
        `p99 ${median(loads.map((l) => l.p99))} ms; errors ${loads.reduce((a, l) => a + l.errors, 0)}; statuses ${loads.map((l) => l.statuses).join(' / ')}`;
      const peerRps = median(s3peer.map((l) => l.rps));
      const s3rps = median(s3.map((l) => l.rps));
      rows.push({
        db: kind,
        scenario: 'S3 peer: the same push by hand (Fastify, jose, one prepared insert)',
        value: peerRps,
        unit: 'push/s',
        extra: pushSummary(s3peer),
      });
      rows.push({
        db: kind,
        scenario: 'S3 Badge Connect push (signed, RS256, key cached)',
        value: s3rps,
        unit: 'push/s',
        ratio: s3rps / peerRps,
        target: 0.5,
        extra: `ratio to the peer; ${pushSummary(s3)}`,
      });

      if (PUSH_ONLY) return;

      // S4: 90% list reads, 10% pushes, for a minute.
      const s4 = await load(
        `${server.url}/v1/badges?limit=100`,
        {
          requests: [
            {
              setupRequest: (req: autocannon.Request): autocannon.Request =>
                Math.random() < 0.1
                  ? pushRequest({
                      ...req,
                      method: 'POST',
                      path: '/ims/ob/v2p1/assertions',
                      headers: pushHeaders,
                    })
                  : {
                      ...req,
                      method: 'GET',
                      path: '/v1/badges?limit=100',
                      headers: { cookie: seeded.cookie },
                    },
            },
          ],
        },
        QUICK ? 5 : 60,
      );
      rows.push({
        db: kind,
        scenario: 'S4 mixed 90% list / 10% push, 60 s',
        value: s4.p99,
        unit: 'ms p99',
        target: 50,
        lowerIsBetter: true,
        absolute: true,
        extra: `${Math.round(s4.rps)} req/s; errors ${s4.errors}, non-2xx ${s4.non2xx} (target 0); statuses ${s4.statuses}`,
      });

      const growth: Record<string, Load> = {};
      for (const [size, c] of [['100', seeded.cookie], ...Object.entries(seeded.growth)] as [
        string,
        string,
      ][]) {
        growth[size] = await load(
          `${server.url}/v1/badges?limit=100`,
          { connections: 8, headers: { cookie: c } },
          QUICK ? 2 : 5,
        );
      }
      const g100 = growth['100']?.mean ?? 0;
      for (const [size, l] of Object.entries(growth)) {
        rows.push({
          db: kind,
          scenario: `Growth: first page, ${size} badges held`,
          value: l.mean,
          unit: 'ms mean',
          ratio: g100 ? l.mean / g100 : undefined,
          target: size === '100' ? undefined : 1.5,
          lowerIsBetter: true,
          extra: `p99 ${l.p99} ms`,
        });
      }

      if (seeded.crowd.length > 0) {
        const cookies = seeded.crowd;
        let next = 0;
        await load(`${server.url}/v1/badges?limit=100`, {
          requests: [
            {
              setupRequest: (req) => {
                next = (next + 1) % cookies.length;
                return { ...req, headers: { ...req.headers, cookie: cookies[next] ?? '' } };
              },
            },
          ],
        });
      }
      rows.push({
        db: kind,
        scenario: `Memory: peak RSS under S1 (${seeded.crowd.length + 3} earners)`,
        value: server.peakRssMb(),
        unit: 'MB',
        target: 256,
        lowerIsBetter: true,
        absolute: true,
      });
    } finally {
      await stop(server.child);
    }
  } finally {
    await database.drop();
    rmSync(payloadDir, { recursive: true, force: true });
  }
}

const rows: Row[] = [];
const started = new Date().toISOString();

/** Written after each part, so that a failure late in the run keeps what was measured. */
function writeResults(): string {
  const results = { date: started, quick: QUICK, node: process.version, rows };
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  const base = join(ROOT, 'bench/results', QUICK ? 'quick' : 'latest');
  writeFileSync(`${base}.json`, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(`${base}.md`, renderMarkdown(results));
  writeFileSync(`${base}.svg`, renderChart(results));
  return renderMarkdown(results);
}

{
  const issuer = await startIssuer();
  try {
    rows.push(...(await benchEngine(issuer, QUICK ? 1 : 3)));
  } finally {
    await issuer.close();
  }
}
async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_SERVER, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

// One issuer (one key) for both databases, so that the pushes are signed once.
const pushIssuer = await startIssuer();
try {
  for (const kind of ['sqlite', 'postgres'] as const) {
    if (ONLY_DB && ONLY_DB !== kind) continue;
    if (kind === 'postgres' && !(await postgresReachable())) {
      console.warn(
        `\nPostgreSQL is not reachable at ${POSTGRES_SERVER} (BENCH_POSTGRES_URL): its scenarios are skipped.`,
      );
      continue;
    }
    await benchDatabase(kind, pushIssuer, rows);
    writeResults();
  }
} finally {
  await pushIssuer.close();
}
console.log(`\n${writeResults()}`);
