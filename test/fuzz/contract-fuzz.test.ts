// Contract fuzzing: requests generated from openapi.yaml for every operation (valid, boundary
// and hostile inputs; anonymous, signed-in, token and forged credentials). Every answer must be
// below 500 and match a response the contract documents, with a body valid against its schema;
// a refused hostile request must leave every table as it was. FUZZ_REQUESTS (per database) and
// FUZZ_SEED make longer or different runs; a failing request prints the seed that replays it,
// and regressions.json keeps such seeds as permanent cases.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { FetchError, type Fetcher } from '../../src/modules/openbadges/index.ts';
import { testConfig } from '../support/app.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { createEarner, createToken } from '../support/earners.ts';
import { type FuzzOperation, loadFuzzContract } from './contract.ts';
import { Gen, type Json, prng } from './schema-values.ts';

// CI (which sets CI=true) sends the full count; a run on a developer's machine a tenth of it.
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? (process.env.CI === 'true' ? 10_000 : 1_000));
const BASE_SEED = Number(process.env.FUZZ_SEED ?? 20261130);
// Requests that once failed, kept verbatim (auth is filled in at replay: none, session or token).
const REGRESSIONS = JSON.parse(readFileSync(new URL('./regressions.json', import.meta.url), 'utf8')) as {
  operationId: string;
  seed: number;
  auth: 'none' | 'session' | 'token';
  method: string;
  url: string;
  contentType?: string;
  payload?: string;
  why: string;
}[];

// No request of the fuzzer may leave the machine: every outbound fetch is refused.
const refusingFetcher: Fetcher = async (url) => {
  throw new FetchError('fetch_blocked_address', `fuzzing: ${url} not fetched`);
};

const ALL_SCOPES = [
  'profile:read',
  'profile:write',
  'badges:read',
  'badges:write',
  'groups:read',
  'groups:write',
  'shares:read',
  'shares:write',
];

interface Failure {
  seed: number;
  hostile: boolean;
  operationId: string;
  request: string;
  status: number;
  reason: string;
}

function documentedResponse(op: FuzzOperation, status: number) {
  return (
    op.responses.get(String(status)) ??
    op.responses.get(`${String(status)[0]}XX`) ??
    op.responses.get('default')
  );
}

const JSON_TYPE = /^application\/([a-z.+-]*\+)?json$/;

function multipart(gen: Gen): { payload: Buffer; contentType: string } {
  const boundary = `----fuzz${gen.int(0, 1e9)}`;
  const bytes = gen.pick([
    Buffer.from('\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR'),
    Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>'),
    Buffer.alloc(gen.int(0, 4096), gen.int(0, 255)),
  ]);
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="${gen.pick(['file', 'image', 'x'])}"; filename="b.png"\r\nContent-Type: ${gen.pick(['image/png', 'image/svg+xml', 'text/plain'])}\r\n\r\n`;
  return {
    payload: Buffer.concat([Buffer.from(head), bytes, Buffer.from(`\r\n--${boundary}--\r\n`)]),
    contentType: `multipart/form-data; boundary=${boundary}`,
  };
}

describeEachDatabase('contract fuzz', (current) => {
  let app: FastifyInstance;
  const contract = loadFuzzContract();
  const ids: string[] = [];
  let cookie = '';
  let bearer = '';
  let tableCounts: () => Promise<string>;

  async function signIn(): Promise<void> {
    const earner = await createEarner(app);
    cookie = earner.session.cookie;
    bearer = await createToken(app, earner.id, ALL_SCOPES);
  }

  beforeAll(async () => {
    app = await buildApp({
      config: testConfig({ RATE_LIMIT_MAX: '1000000' }),
      db: current().db,
      fetcher: refusingFetcher,
    });
    await app.ready();
    await signIn();
    const prisma = current().db.prisma;
    const tables =
      current().name === 'sqlite'
        ? (
            await prisma.$queryRawUnsafe<{ name: string }[]>(
              "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_prisma_migrations'",
            )
          ).map((r) => r.name)
        : (
            await prisma.$queryRawUnsafe<{ name: string }[]>(
              "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'",
            )
          ).map((r) => r.name);
    const sql = tables.map((t) => `SELECT '${t}' AS t, COUNT(*) AS n FROM "${t}"`).join(' UNION ALL ');
    tableCounts = async () =>
      JSON.stringify(await prisma.$queryRawUnsafe(sql), (_k, v) => (typeof v === 'bigint' ? Number(v) : v));
  });
  afterAll(() => app?.close());

  function harvest(body: unknown, depth = 0): void {
    if (depth > 4 || body === null || typeof body !== 'object') return;
    if (Array.isArray(body)) {
      for (const item of body.slice(0, 5)) harvest(item, depth + 1);
      return;
    }
    for (const [key, value] of Object.entries(body)) {
      if (
        (key === 'id' || key.endsWith('Id')) &&
        typeof value === 'string' &&
        value.length < 200 &&
        !ids.includes(value)
      ) {
        ids.push(value);
        if (ids.length > 200) ids.shift();
      } else harvest(value, depth + 1);
    }
  }

  function buildRequest(op: FuzzOperation, gen: Gen, hostile: boolean): InjectOptions {
    let url = op.path;
    for (const param of op.pathParams) {
      const value = gen.pick<() => string>([
        () => (ids.length ? gen.pick(ids) : randomUUID()),
        () => (ids.length ? gen.pick(ids) : randomUUID()),
        () => randomUUID(),
        () => String(gen.valid(param.schema)),
        () =>
          gen.pick([
            '..%2F..%2Fetc%2Fpasswd',
            '%00',
            'x'.repeat(300),
            '%E2%80%AE',
            '__proto__',
            '-1',
            '1e309',
          ]),
      ])();
      url = url.replace(
        `{${param.name}}`,
        value.startsWith('%') || value.includes('%2F') ? value : encodeURIComponent(value),
      );
    }
    const query = new URLSearchParams();
    for (const param of op.queryParams) {
      if (!param.required && gen.chance(0.5)) continue;
      const value =
        hostile && gen.chance(0.5) ? gen.hostile(param.schema) : gen.valid(param.schema, gen.chance(0.3));
      query.append(param.name, typeof value === 'string' ? value : JSON.stringify(value));
    }
    if (hostile && gen.chance(0.2)) query.append(gen.pick(['unknownParam', '__proto__', 'constructor']), 'x');
    const qs = query.toString();
    const headers: Record<string, string> = {};
    const auth = gen.pick(['session', 'session', 'token', 'none', 'forged']);
    if (auth === 'session') {
      headers.cookie = cookie;
      headers.origin = 'http://localhost:3000';
    } else if (auth === 'token') headers.authorization = bearer;
    else if (auth === 'forged') {
      if (gen.chance(0.5)) headers.authorization = `Bearer bpk_${'A'.repeat(43)}`;
      else headers.cookie = `${cookie.split('=')[0]}=${'x'.repeat(43)}`;
    }
    const request: InjectOptions = {
      method: op.method as InjectOptions['method'],
      url: qs ? `${url}?${qs}` : url,
      headers,
    };
    if (op.body && (op.body.required || gen.chance(0.8))) {
      const value: Json = hostile ? gen.hostile(op.body.schema) : gen.valid(op.body.schema, gen.chance(0.3));
      const wrongType = hostile && gen.chance(0.15);
      if (op.body.contentType === 'multipart/form-data' && !wrongType) {
        const part = multipart(gen);
        request.payload = part.payload;
        headers['content-type'] = part.contentType;
      } else if (op.body.contentType === 'application/x-www-form-urlencoded' && !wrongType) {
        const form = new URLSearchParams();
        for (const [k, v] of Object.entries(
          typeof value === 'object' && value && !Array.isArray(value) ? value : { value },
        )) {
          form.append(k, typeof v === 'string' ? v : JSON.stringify(v));
        }
        request.payload = form.toString();
        headers['content-type'] = 'application/x-www-form-urlencoded';
      } else {
        request.payload = JSON.stringify(value);
        headers['content-type'] = wrongType
          ? gen.pick(['text/plain', 'application/x-www-form-urlencoded', 'application/xml'])
          : 'application/json';
      }
    }
    return request;
  }

  async function check(
    op: FuzzOperation,
    request: InjectOptions,
    hostile: boolean,
    seed: number,
  ): Promise<Failure[]> {
    const failures: Failure[] = [];
    const before = hostile ? await tableCounts() : '';
    const res = await app.inject(request);
    const fail = (reason: string) =>
      failures.push({
        seed,
        hostile,
        operationId: op.operationId,
        request: `${request.method} ${String(request.url).slice(0, 200)}`,
        status: res.statusCode,
        reason,
      });
    const documented = documentedResponse(op, res.statusCode);
    if (res.statusCode === 500 || (res.statusCode > 500 && !documented)) {
      fail(`server error: ${res.body.slice(0, 300)}`);
      return failures;
    }
    // Answers any route can give before its handler runs (routing, limits, parsing).
    const generic = [404, 405, 413, 414, 415, 429, 503].includes(res.statusCode);
    if (!documented && !generic) {
      fail('status not documented for this operation');
      return failures;
    }
    const type =
      String(res.headers['content-type'] ?? '')
        .split(';')[0]
        ?.trim() ?? '';
    if (!documented) {
      // A generic answer is a problem like every other error.
      if (type !== 'application/problem+json') fail(`generic ${res.statusCode} is ${type}, not a problem`);
      else {
        const problem = contract.validate('#/components/schemas/Problem', JSON.parse(res.body));
        if (problem) fail(`generic ${res.statusCode} problem does not match the Problem schema: ${problem}`);
      }
    }
    if (documented && res.body.length > 0 && res.statusCode !== 204) {
      if (!documented.has(type)) fail(`content type ${type} not documented for ${res.statusCode}`);
      else {
        const pointer = documented.get(type);
        if (pointer && JSON_TYPE.test(type)) {
          const problem = contract.validate(pointer, JSON.parse(res.body));
          if (problem) fail(`body does not match the documented schema: ${problem}`);
        }
      }
    }
    if (JSON_TYPE.test(type) && res.statusCode < 300) harvest(JSON.parse(res.body));
    if (hostile && res.statusCode >= 400 && res.statusCode < 500) {
      const after = await tableCounts();
      if (after !== before) fail(`a refused request changed the row counts: ${before} -> ${after}`);
    }
    return failures;
  }

  async function run(seed: number, count: number): Promise<Failure[]> {
    const failures: Failure[] = [];
    for (let i = 0; i < count; i++) {
      const requestSeed = seed + i;
      const gen = new Gen(prng(requestSeed), contract.resolveSchema);
      const op = contract.operations[i % contract.operations.length];
      if (!op) break;
      if (i > 0 && i % 400 === 0) await signIn();
      const hostile = gen.chance(0.5);
      failures.push(...(await check(op, buildRequest(op, gen, hostile), hostile, requestSeed)));
    }
    return failures;
  }

  it(`answers ${REQUESTS} generated requests within the contract, without 5xx`, async () => {
    const failures = await run(BASE_SEED, REQUESTS);
    const kinds = new Map<string, Failure>();
    for (const f of failures) kinds.set(`${f.operationId} ${f.status} ${f.reason.slice(0, 60)}`, f);
    expect([...kinds.values()]).toEqual([]);
  }, 600_000);

  for (const r of REGRESSIONS) {
    it(`replays ${r.method} ${r.url.slice(0, 60)} (seed ${r.seed}): ${r.why}`, async () => {
      const op = contract.operations.find((o) => o.operationId === r.operationId);
      if (!op)
        throw new Error(`operation ${r.operationId} is gone from the contract; update regressions.json`);
      const headers: Record<string, string> = r.contentType ? { 'content-type': r.contentType } : {};
      if (r.auth === 'session') Object.assign(headers, { cookie, origin: 'http://localhost:3000' });
      if (r.auth === 'token') headers.authorization = bearer;
      const request: InjectOptions = { method: r.method as InjectOptions['method'], url: r.url, headers };
      if (r.payload !== undefined) request.payload = r.payload;
      expect(await check(op, request, true, r.seed)).toEqual([]);
    });
  }
});
