// A local Open Badges 2.0 issuer on 127.0.0.1 for benchmarks: hosted assertions, badge classes,
// an issuer profile with its public key, and images. Assertions are made on demand, numbered.
import { createHash, createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { solidPng } from '../../test/support/badge-rows.ts';

export { solidPng };

export interface LocalIssuer {
  origin: string;
  host: string;
  privateKey: KeyObject;
  assertionUrl(n: number): string;
  /** The assertion JSON as hosted, awarded to `email` (hashed with a salt). */
  assertion(n: number, email: string): Record<string, unknown>;
  /** A signed (RS256 compact JWS) assertion, awarded to `email`. */
  signed(n: number, email: string): string;
  close(): Promise<void>;
}

const CLASSES = 10;

export async function startIssuer(): Promise<LocalIssuer> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const png = solidPng([40, 120, 200], 32);
  const recipients = new Map<number, string>();
  let origin = '';
  const issuer = () => ({
    '@context': 'https://w3id.org/openbadges/v2',
    type: 'Issuer',
    id: `${origin}/issuer`,
    name: 'Benchmark Academy',
    url: `${origin}/`,
    email: 'badges@academy.example',
    publicKey: `${origin}/key`,
  });
  const badgeClass = (k: number) => ({
    '@context': 'https://w3id.org/openbadges/v2',
    type: 'BadgeClass',
    id: `${origin}/badges/${k}`,
    name: `Benchmark skill ${k}`,
    description: `Awarded for completing benchmark module ${k}, with a description of realistic length for a list.`,
    image: `${origin}/images/${k}.png`,
    criteria: { narrative: `Complete module ${k}.` },
    issuer: `${origin}/issuer`,
    tags: ['benchmark', `module-${k}`],
  });
  const assertion = (n: number, email: string) => {
    const salt = `s${n}`;
    return {
      '@context': 'https://w3id.org/openbadges/v2',
      type: 'Assertion',
      id: `${origin}/assertions/${n}`,
      recipient: {
        type: 'email',
        hashed: true,
        salt,
        identity: `sha256$${createHash('sha256')
          .update(email + salt)
          .digest('hex')}`,
      },
      badge: `${origin}/badges/${n % CLASSES}`,
      verification: { type: 'hosted' },
      issuedOn: new Date(Date.UTC(2024, 0, 1) + (n % 8760) * 3_600_000).toISOString(),
    };
  };
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/';
    const send = (type: string, body: string | Buffer) => {
      res.writeHead(200, { 'content-type': type });
      res.end(body);
    };
    if (url === '/issuer') return send('application/json', JSON.stringify(issuer()));
    if (url === '/key') {
      return send(
        'application/json',
        JSON.stringify({
          '@context': 'https://w3id.org/openbadges/v2',
          type: 'CryptographicKey',
          id: `${origin}/key`,
          owner: `${origin}/issuer`,
          publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        }),
      );
    }
    const badge = /^\/badges\/(\d+)$/.exec(url);
    if (badge) return send('application/json', JSON.stringify(badgeClass(Number(badge[1]))));
    if (/^\/images\/\d+\.png$/.test(url)) return send('image/png', png);
    const hosted = /^\/assertions\/(\d+)$/.exec(url);
    if (hosted) {
      const n = Number(hosted[1]);
      const email = recipients.get(n);
      if (email) return send('application/json', JSON.stringify(assertion(n, email)));
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    host: `127.0.0.1:${port}`,
    privateKey,
    assertionUrl: (n) => `${origin}/assertions/${n}`,
    assertion: (n, email) => {
      recipients.set(n, email);
      return assertion(n, email);
    },
    signed: (n, email) => {
      const payload = {
        ...assertion(n, email),
        id: `urn:uuid:00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
        verification: { type: 'signed', creator: `${origin}/key` },
      };
      const encode = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const input = `${encode({ alg: 'RS256' })}.${encode(payload)}`;
      const signature = createSign('RSA-SHA256').update(input).sign(privateKey).toString('base64url');
      return `${input}.${signature}`;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
