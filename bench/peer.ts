// The hand-written peer of a Badge Connect push, for the S3 ratio: the same request and answer
// with nothing beyond Fastify. It verifies the RS256 compact JWS with `jose` and the issuer's key
// (fetched once at start), checks the salted recipient hash against the earner's address, and
// stores the assertion with one prepared insert (better-sqlite3 in WAL mode, or `pg` with a
// named prepared statement). No token lookup, badge class, image, policy or ledger: it is the
// floor a push could cost on this machine, not a backpack.
//   env: DATABASE_URL, PORT, PEER_TOKEN (the bearer it accepts), PEER_EMAIL, PEER_KEY_URL
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import Sqlite from 'better-sqlite3';
import Fastify from 'fastify';
import { compactVerify, importSPKI } from 'jose';
import pg from 'pg';

const url = String(process.env.DATABASE_URL);
const expected = Buffer.from(`Bearer ${process.env.PEER_TOKEN}`);
const email = String(process.env.PEER_EMAIL);
const earnerId = 'peer';

const keyDocument = (await (await fetch(String(process.env.PEER_KEY_URL))).json()) as {
  publicKeyPem: string;
};
const key = await importSPKI(keyDocument.publicKeyPem, 'RS256');

const TABLE = `CREATE TABLE IF NOT EXISTS "bench_peer_badges" (
  "id" TEXT PRIMARY KEY, "earnerId" TEXT NOT NULL, "assertionId" TEXT NOT NULL,
  "issuedOn" TEXT NOT NULL, "originalText" TEXT NOT NULL, "addedAt" TEXT NOT NULL,
  UNIQUE ("earnerId", "assertionId"))`;
const COLUMNS = '"id", "earnerId", "assertionId", "issuedOn", "originalText", "addedAt"';

/** Stores one assertion; true when it is new, false when the earner already held it. */
let insert: (values: string[]) => Promise<boolean>;
let close: () => Promise<void>;
if (url.startsWith('file:')) {
  const db = new Sqlite(url.slice('file:'.length), { timeout: 5000 });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(TABLE);
  const statement = db.prepare(
    `INSERT INTO "bench_peer_badges" (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  );
  insert = async (values) => statement.run(...values).changes === 1;
  close = async () => {
    db.close();
  };
} else {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  await pool.query(TABLE);
  const text = `INSERT INTO "bench_peer_badges" (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`;
  insert = async (values) => (await pool.query({ name: 'peer_insert', text, values })).rowCount === 1;
  close = () => pool.end();
}

interface Assertion {
  id?: string;
  issuedOn?: string;
  recipient?: { identity?: string; salt?: string; hashed?: boolean };
}

function refuse(statusCode: number, error: string) {
  return { status: { error, statusCode, statusText: statusCode === 401 ? 'Unauthorized' : 'Bad Request' } };
}

const app = Fastify({ logger: false });
app.post(
  '/ims/ob/v2p1/assertions',
  {
    schema: {
      body: {
        type: 'object',
        required: ['assertion'],
        properties: { assertion: { type: 'string', maxLength: 100_000 } },
      },
    },
  },
  async (request, reply) => {
    const auth = Buffer.from(request.headers.authorization ?? '');
    if (auth.length !== expected.length || !timingSafeEqual(auth, expected)) {
      return reply.code(401).send(refuse(401, 'unauthorized'));
    }
    const jws = (request.body as { assertion: string }).assertion;
    let assertion: Assertion;
    try {
      const { payload } = await compactVerify(jws, key, { algorithms: ['RS256'] });
      assertion = JSON.parse(Buffer.from(payload).toString('utf8')) as Assertion;
    } catch {
      return reply.code(400).send(refuse(400, 'badge_invalid'));
    }
    const { identity, salt } = assertion.recipient ?? {};
    const digest = `sha256$${createHash('sha256')
      .update(email + (salt ?? ''))
      .digest('hex')}`;
    if (identity !== digest || !assertion.id) return reply.code(400).send(refuse(400, 'recipient_mismatch'));
    const now = new Date().toISOString();
    const created = await insert([randomUUID(), earnerId, assertion.id, assertion.issuedOn ?? now, jws, now]);
    const statusCode = created ? 201 : 200;
    return reply.code(statusCode).send({
      status: { error: null, statusCode, statusText: created ? 'Created' : 'OK' },
      results: [jws],
    });
  },
);
app.get('/healthz', async () => ({ status: 'ok' }));

await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
process.on('SIGTERM', () => {
  void app
    .close()
    .then(close)
    .then(() => process.exit(0));
});
