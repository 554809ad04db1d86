// A local Open Badges issuer on 127.0.0.1 for the backpack's HTTP tests: it hosts OB 2.0
// assertions, its BadgeClass, profile, RSA key, revocation list and image, signs assertions
// with its own key, and issues OB 3.0 credentials (eddsa-rdfc-2022 proofs and VC-JWTs) from a
// did:key. Tests change what it serves (revoke, withdraw) to see the backpack notice.
import { createHash, sign as cryptoSign, generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateSync, gzipSync } from 'node:zlib';
import { CompactSign, type CryptoKey, exportJWK, exportSPKI, generateKeyPair } from 'jose';
import jsonld from 'jsonld';
import { PNG_SIGNATURE, pngChunk } from '../../src/modules/openbadges/index.ts';
import { documentLoader } from '../../src/modules/openbadges/jsonld-loader.ts';

type Served = { status: number; body: string | Uint8Array; type: string };

export interface AssertionOptions {
  name?: string;
  issuedOn?: string;
  expires?: string;
}

/** A valid 1x1 PNG, optionally with extra chunks after IHDR. */
export function tinyPng(extra: Buffer[] = []): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(1, 0);
  ihdr.writeUInt32BE(1, 4);
  ihdr[8] = 8;
  ihdr[9] = 6;
  return new Uint8Array(
    Buffer.concat([
      PNG_SIGNATURE,
      pngChunk('IHDR', ihdr),
      ...extra,
      pngChunk('IDAT', deflateSync(Buffer.from([0, 255, 0, 0, 255]))),
      pngChunk('IEND', Buffer.alloc(0)),
    ]),
  );
}

/** A PNG whose compressed Open Badges text chunk inflates to far more than any limit. */
export function zipBombPng(): Uint8Array {
  const bomb = deflateSync(Buffer.alloc(64 * 1024 * 1024, 0x41), { level: 9 });
  const data = Buffer.concat([Buffer.from('openbadges', 'latin1'), Buffer.from([0, 1, 0, 0, 0]), bomb]);
  return tinyPng([pngChunk('iTXt', data)]);
}

export const PLAIN_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10" fill="red"/></svg>';

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
function base58(bytes: Uint8Array): string {
  let n = BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
  let out = '';
  while (n > 0n) {
    out = B58[Number(n % 58n)] + out;
    n /= 58n;
  }
  return out;
}

const sha = (s: string) => createHash('sha256').update(s).digest();

export class LocalIssuer {
  private readonly docs = new Map<string, Served>();
  private counter = 0;
  private readonly revokedIds: string[] = [];
  /**
   * What the issuer says about caching its documents. Tests change what it serves as they go
   * (revoke, withdraw), so by default every reuse is revalidated.
   */
  cacheControl = 'no-cache';
  /** Every request received: path, and whether it was a conditional one that got 304. */
  readonly requests: { path: string; notModified: boolean }[] = [];
  /** Paths switched off: they answer 503 until switched on again. */
  private readonly off = new Set<string>();
  private readonly statusBits = new Set<number>();
  private nextStatusIndex = 0;
  origin = '';
  hostPort = '';
  private close_: () => Promise<void> = async () => undefined;
  private rsaPrivate!: CryptoKey;
  private edPrivate!: KeyObject;
  did = '';

  static async start(): Promise<LocalIssuer> {
    const issuer = new LocalIssuer();
    await issuer.init();
    return issuer;
  }

  private async init(): Promise<void> {
    const server = createServer((req, res) => {
      const path = req.url ?? '';
      const doc = this.docs.get(path);
      if (this.off.has(path)) {
        this.requests.push({ path, notModified: false });
        res.writeHead(503).end();
        return;
      }
      if (!doc) {
        this.requests.push({ path, notModified: false });
        res.writeHead(404).end();
        return;
      }
      const etag = `"${createHash('sha256').update(doc.body).digest('base64url')}"`;
      const notModified = doc.status === 200 && req.headers['if-none-match'] === etag;
      this.requests.push({ path, notModified });
      const headers = { 'cache-control': this.cacheControl, etag };
      if (notModified) {
        res.writeHead(304, headers).end();
        return;
      }
      res.writeHead(doc.status, { ...headers, 'content-type': doc.type });
      res.end(doc.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    this.origin = `http://127.0.0.1:${port}`;
    this.hostPort = `127.0.0.1:${port}`;
    this.close_ = () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });

    await this.rotateKey();
    const ed = generateKeyPairSync('ed25519');
    this.edPrivate = ed.privateKey;
    const raw = Buffer.from(ed.publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
    this.did = `did:key:z${base58(Buffer.concat([Buffer.from([0xed, 0x01]), raw]))}`;

    const o = this.origin;
    this.json('/issuer', {
      '@context': 'https://w3id.org/openbadges/v2',
      type: 'Issuer',
      id: `${o}/issuer`,
      name: 'Local Issuer',
      url: o,
      email: 'issuer@example.org',
      publicKey: `${o}/key`,
      revocationList: `${o}/revocations`,
    });
    this.docs.set('/badge.png', { status: 200, body: tinyPng(), type: 'image/png' });
    this.publishRevocations();
    await this.publishStatusList();
  }

  /** A new RSA key published at the same key URL: assertions signed before no longer verify. */
  async rotateKey(): Promise<void> {
    const kp = await generateKeyPair('RS256', { extractable: true });
    this.rsaPrivate = kp.privateKey;
    this.json('/key', {
      '@context': 'https://w3id.org/openbadges/v2',
      type: 'CryptographicKey',
      id: `${this.origin}/key`,
      owner: `${this.origin}/issuer`,
      publicKeyPem: await exportSPKI(kp.publicKey),
    });
  }

  private json(path: string, doc: unknown, status = 200): void {
    this.docs.set(path, { status, body: JSON.stringify(doc), type: 'application/json' });
  }

  private publishRevocations(): void {
    this.json('/revocations', {
      '@context': 'https://w3id.org/openbadges/v2',
      type: 'RevocationList',
      id: `${this.origin}/revocations`,
      issuer: `${this.origin}/issuer`,
      revokedAssertions: this.revokedIds.map((id) => ({ id, revocationReason: 'withdrawn' })),
    });
  }

  private badgeClass(name: string): string {
    this.counter += 1;
    const path = `/badges/${this.counter}`;
    this.json(path, {
      '@context': 'https://w3id.org/openbadges/v2',
      type: 'BadgeClass',
      id: `${this.origin}${path}`,
      name,
      description: `Awarded in a test: ${name}`,
      image: `${this.origin}/badge.png`,
      criteria: { narrative: 'Pass the test.' },
      issuer: `${this.origin}/issuer`,
    });
    return `${this.origin}${path}`;
  }

  private assertionBody(recipient: string, opts: AssertionOptions, id: string, verification: unknown) {
    return {
      '@context': 'https://w3id.org/openbadges/v2',
      type: 'Assertion',
      id,
      recipient: { type: 'email', hashed: false, identity: recipient },
      badge: this.badgeClass(opts.name ?? 'Local Badge'),
      verification,
      issuedOn: opts.issuedOn ?? '2024-01-01T00:00:00Z',
      ...(opts.expires ? { expires: opts.expires } : {}),
    };
  }

  /** A hosted OB 2.0 assertion: its URL and its JSON. */
  hosted(recipient: string, opts: AssertionOptions = {}): { url: string; json: Record<string, unknown> } {
    this.counter += 1;
    const path = `/assertions/${this.counter}`;
    const url = `${this.origin}${path}`;
    const json = this.assertionBody(recipient, opts, url, { type: 'hosted' });
    this.json(path, json);
    return { url, json };
  }

  /** An OB 2.0 signed assertion as a compact JWS (RS256, the issuer's key). */
  async signed(recipient: string, opts: AssertionOptions = {}): Promise<{ id: string; jws: string }> {
    const id = `urn:uuid:${randomUUID()}`;
    const body = this.assertionBody(recipient, opts, id, { type: 'signed', creator: `${this.origin}/key` });
    const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(body)))
      .setProtectedHeader({ alg: 'RS256' })
      .sign(this.rsaPrivate);
    return { id, jws };
  }

  /** An OB 2.0 Endorsement of `endorsedId` by this issuer, as served hosted at the URL returned. */
  hostedEndorsement(endorsedId: string, comment: string): string {
    this.counter += 1;
    const path = `/endorsements/${this.counter}`;
    return this.serve(
      path,
      this.endorsementBody(`${this.origin}${path}`, endorsedId, comment, { type: 'hosted' }),
    );
  }

  /** An OB 2.0 Endorsement of `endorsedId` by this issuer as a compact JWS (RS256, the issuer's key). */
  signedEndorsement(endorsedId: string, comment: string): Promise<string> {
    const body = this.endorsementBody(`urn:uuid:${randomUUID()}`, endorsedId, comment, {
      type: 'signed',
      creator: `${this.origin}/key`,
    });
    return new CompactSign(new TextEncoder().encode(JSON.stringify(body)))
      .setProtectedHeader({ alg: 'RS256' })
      .sign(this.rsaPrivate);
  }

  private endorsementBody(id: string, endorsedId: string, comment: string, verification: unknown) {
    return {
      '@context': 'https://w3id.org/openbadges/v2',
      type: 'Endorsement',
      id,
      claim: { id: endorsedId, endorsementComment: comment },
      issuer: `${this.origin}/issuer`,
      issuedOn: '2024-01-01T00:00:00Z',
      verification,
    };
  }

  /** Withdraws a hosted assertion: its URL answers 410 Gone from now on. */
  withdraw(url: string): void {
    this.docs.set(new URL(url).pathname, { status: 410, body: 'gone', type: 'text/plain' });
  }

  /** Puts a signed assertion on the revocation list. */
  revoke(id: string): void {
    this.revokedIds.push(id);
    this.publishRevocations();
  }

  private credentialBody(
    recipient: string,
    name: string,
    overrides: Record<string, unknown> = {},
  ): Record<string, unknown> {
    return {
      '@context': [
        'https://www.w3.org/ns/credentials/v2',
        'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json',
      ],
      id: `urn:uuid:${randomUUID()}`,
      type: ['VerifiableCredential', 'OpenBadgeCredential'],
      issuer: { id: this.did, type: ['Profile'], name: 'Key Issuer' },
      validFrom: '2024-01-01T00:00:00Z',
      name,
      credentialSubject: {
        type: ['AchievementSubject'],
        identifier: [
          { type: 'IdentityObject', identityHash: recipient, identityType: 'emailAddress', hashed: false },
        ],
        achievement: {
          id: `urn:uuid:${randomUUID()}`,
          type: ['Achievement'],
          name,
          description: 'An OB 3.0 achievement',
          criteria: { narrative: 'Pass.' },
        },
      },
      ...overrides,
    };
  }

  /** An OB 3.0 credential with an eddsa-rdfc-2022 Data Integrity proof. */
  async credential(
    recipient: string,
    name = 'Credential Badge',
    overrides: Record<string, unknown> = {},
  ): Promise<Record<string, unknown>> {
    return this.withProof(this.credentialBody(recipient, name, overrides));
  }

  /** Adds an eddsa-rdfc-2022 Data Integrity proof by this issuer's did:key. */
  private async withProof(doc: Record<string, unknown>): Promise<Record<string, unknown>> {
    const canon = (d: unknown) =>
      jsonld.canonize(d, {
        algorithm: 'RDFC-1.0',
        format: 'application/n-quads',
        documentLoader,
        safe: true,
      });
    const proof = {
      '@context': doc['@context'],
      type: 'DataIntegrityProof',
      cryptosuite: 'eddsa-rdfc-2022',
      created: '2024-01-01T00:00:00Z',
      verificationMethod: `${this.did}#${this.did.slice(8)}`,
      proofPurpose: 'assertionMethod',
    };
    const data = Buffer.concat([sha(await canon(proof)), sha(await canon(doc))]);
    const { '@context': _context, ...stored } = proof;
    return { ...doc, proof: { ...stored, proofValue: `z${base58(cryptoSign(null, data, this.edPrivate))}` } };
  }

  /** An OB 3.0 EndorsementCredential by this issuer's did:key, endorsing `endorsedId`. */
  endorsement(endorsedId: string, comment: string): Promise<Record<string, unknown>> {
    return this.withProof({
      '@context': [
        'https://www.w3.org/ns/credentials/v2',
        'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json',
      ],
      id: `urn:uuid:${randomUUID()}`,
      type: ['VerifiableCredential', 'EndorsementCredential'],
      issuer: { id: this.did, type: ['Profile'], name: 'Key Issuer' },
      validFrom: '2024-01-01T00:00:00Z',
      name: 'Endorsement',
      credentialSubject: { id: endorsedId, type: ['EndorsementSubject'], endorsementComment: comment },
    });
  }

  /** The URL of this issuer's revocation status list (a signed BitstringStatusListCredential). */
  get statusListUrl(): string {
    return `${this.origin}/status/1`;
  }

  /** A fresh `credentialStatus` entry on the status list, for `credential(…, { credentialStatus })`. */
  statusEntry(): { entry: Record<string, unknown>; index: number } {
    const index = this.nextStatusIndex++;
    return {
      index,
      entry: {
        id: `${this.statusListUrl}#${index}`,
        type: 'BitstringStatusListEntry',
        statusPurpose: 'revocation',
        statusListIndex: String(index),
        statusListCredential: this.statusListUrl,
      },
    };
  }

  /** Sets or clears a status list bit and publishes the list again, signed. */
  async setStatus(index: number, revoked: boolean): Promise<void> {
    if (revoked) this.statusBits.add(index);
    else this.statusBits.delete(index);
    await this.publishStatusList();
  }

  /** Publishes the status list signed by someone other than the issuer (it must not be trusted). */
  async forgeStatusList(): Promise<void> {
    const genuine = this.edPrivate;
    this.edPrivate = generateKeyPairSync('ed25519').privateKey;
    try {
      await this.publishStatusList();
    } finally {
      this.edPrivate = genuine;
    }
  }

  private async publishStatusList(): Promise<void> {
    // 16 KiB, the smallest list the Bitstring Status List spec allows, most significant bit first.
    const bits = Buffer.alloc(16 * 1024);
    for (const i of this.statusBits) bits[i >> 3] = (bits[i >> 3] ?? 0) | (0x80 >> (i & 7));
    const list = {
      '@context': ['https://www.w3.org/ns/credentials/v2'],
      id: this.statusListUrl,
      type: ['VerifiableCredential', 'BitstringStatusListCredential'],
      issuer: this.did,
      validFrom: '2024-01-01T00:00:00Z',
      credentialSubject: {
        id: `${this.statusListUrl}#list`,
        type: 'BitstringStatusList',
        statusPurpose: 'revocation',
        encodedList: `u${gzipSync(bits).toString('base64url')}`,
      },
    };
    this.json('/status/1', await this.withProof(list));
  }

  /** Serves a JSON document at a path of this issuer. */
  serve(path: string, doc: unknown): string {
    this.json(path, doc);
    return `${this.origin}${path}`;
  }

  /** Makes a path of this issuer answer 503 (off) or serve again (on). */
  switchOff(url: string): void {
    this.off.add(new URL(url, this.origin).pathname);
  }
  switchOn(url: string): void {
    this.off.delete(new URL(url, this.origin).pathname);
  }

  /** An OB 3.0 credential as a VC-JWT (EdDSA, did:key). */
  /** A VC-JWT in this issuer's name, signed with a stranger's key carried in its own header. */
  async vcJwtWithEmbeddedKey(recipient: string): Promise<string> {
    const doc = this.credentialBody(recipient, 'Self-vouched JWT Badge');
    const stranger = await generateKeyPair('EdDSA', { extractable: true });
    const jwk = await exportJWK(stranger.publicKey);
    return new CompactSign(new TextEncoder().encode(JSON.stringify(doc)))
      .setProtectedHeader({ alg: 'EdDSA', jwk })
      .sign(stranger.privateKey);
  }

  async vcJwt(recipient: string, name = 'JWT Badge'): Promise<{ id: string; jwt: string }> {
    const doc = this.credentialBody(recipient, name);
    const jwt = await new CompactSign(new TextEncoder().encode(JSON.stringify(doc)))
      .setProtectedHeader({ alg: 'EdDSA', kid: `${this.did}#${this.did.slice(8)}` })
      .sign(this.edPrivate);
    return { id: String(doc.id), jwt };
  }

  close(): Promise<void> {
    return this.close_();
  }
}

/** A multipart/form-data body with the given parts. */
export function multipartBody(
  parts: { name: string; filename?: string; type?: string; data: Uint8Array | string }[],
): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----backpack${randomUUID()}`;
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename ? `; filename="${p.filename}"` : ''}`;
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: ${disposition}\r\n${p.type ? `Content-Type: ${p.type}\r\n` : ''}\r\n`,
      ),
    );
    chunks.push(Buffer.from(p.data));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    payload: Buffer.concat(chunks),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}
