import { createPrivateKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../db/client.ts';
import { Problem } from '../../http/problems.ts';
import { newId } from '../accounts/index.ts';
import { base58btcDecode, base58btcEncode } from '../openbadges/index.ts';
import { openSecret, SealError, sealSecret } from './envelope.ts';

// Holder DIDs: an Ed25519 key per DID, made when the earner (or a presentation) first needs one.
// The private key leaves this file only as a signature: it is sealed at rest, opened in memory
// for one signature, and never returned by any operation.

export type HolderDidMethod = 'did:key' | 'did:jwk';

/** DIDs one account may hold; each is a key to look after, and one or two serve every purpose. */
export const MAX_HOLDER_DIDS = 10;

export interface HolderDidView {
  did: string;
  method: HolderDidMethod;
  verificationMethod: string;
  publicKeyMultibase: string;
  publicKeyJwk: { kty: 'OKP'; crv: 'Ed25519'; x: string };
  createdAt: Date;
}

export interface HolderSigner {
  did: string;
  method: HolderDidMethod;
  verificationMethod: string;
  /** An Ed25519 signature of `data` by the holder key. */
  sign(data: Uint8Array): Promise<Buffer>;
}

interface Row {
  id: string;
  earnerId: string;
  method: string;
  did: string;
  verificationMethod: string;
  publicKeyMultibase: string;
  kekId: string;
  wrappedDataKey: string;
  sealedPrivateKey: string;
  createdAt: Date;
}

const ED25519_MULTICODEC = [0xed, 0x01];

/** The multikey is z + base58btc(0xed01 || key); the JWK's `x` is the same 32 bytes. */
function publicX(multibase: string): string {
  const bytes = base58btcDecode(multibase.slice(1));
  return Buffer.from(bytes?.subarray(2) ?? []).toString('base64url');
}

function view(row: Row): HolderDidView {
  return {
    did: row.did,
    method: row.method as HolderDidMethod,
    verificationMethod: row.verificationMethod,
    publicKeyMultibase: row.publicKeyMultibase,
    publicKeyJwk: { kty: 'OKP', crv: 'Ed25519', x: publicX(row.publicKeyMultibase) },
    createdAt: row.createdAt,
  };
}

/** The DID and verification method of an Ed25519 public key under each method. */
export function holderIdentifiers(
  method: HolderDidMethod,
  x: Buffer,
): { did: string; verificationMethod: string; publicKeyMultibase: string } {
  const publicKeyMultibase = `z${base58btcEncode(Uint8Array.from([...ED25519_MULTICODEC, ...x]))}`;
  if (method === 'did:key') {
    const did = `did:key:${publicKeyMultibase}`;
    return { did, verificationMethod: `${did}#${publicKeyMultibase}`, publicKeyMultibase };
  }
  // Members in lexicographic order, as did:jwk asks, so the same key always gives the same DID.
  const jwk = JSON.stringify({ crv: 'Ed25519', kty: 'OKP', x: x.toString('base64url') });
  const did = `did:jwk:${Buffer.from(jwk, 'utf8').toString('base64url')}`;
  return { did, verificationMethod: `${did}#0`, publicKeyMultibase };
}

export class HolderKeys {
  constructor(
    private readonly prisma: Db,
    private readonly kek: Buffer,
    private readonly now: () => Date,
    private readonly log?: FastifyBaseLogger,
  ) {}

  private rows(earnerId: string): Promise<Row[]> {
    return this.prisma.holderKey.findMany({
      where: { earnerId },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
  }

  async list(earnerId: string): Promise<HolderDidView[]> {
    return (await this.rows(earnerId)).map(view);
  }

  /** The earner's DIDs, for matching the subject of credentials issued to them. */
  async dids(earnerId: string): Promise<string[]> {
    const rows = await this.prisma.holderKey.findMany({ where: { earnerId }, select: { did: true } });
    return rows.map((r) => r.did);
  }

  async create(earnerId: string, method: HolderDidMethod): Promise<HolderDidView> {
    const count = await this.prisma.holderKey.count({ where: { earnerId } });
    if (count >= MAX_HOLDER_DIDS) {
      throw new Problem('limit_reached', `An account can hold at most ${MAX_HOLDER_DIDS} holder DIDs.`);
    }
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const x = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
    const ids = holderIdentifiers(method, x);
    const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
    let sealed: ReturnType<typeof sealSecret>;
    try {
      sealed = sealSecret(this.kek, pkcs8, ids.did);
    } finally {
      pkcs8.fill(0);
    }
    const row = await this.prisma.holderKey.create({
      data: {
        id: newId(),
        earnerId,
        method,
        ...ids,
        kekId: sealed.kekId,
        wrappedDataKey: sealed.wrappedDataKey,
        sealedPrivateKey: sealed.sealedSecret,
        createdAt: this.now(),
      },
    });
    return view(row);
  }

  /**
   * Signs for the earner with the named DID, or with their first DID of `method` (made now when
   * they have none). The key is opened for the signature and dropped.
   */
  async signer(earnerId: string, did?: string, method: HolderDidMethod = 'did:key'): Promise<HolderSigner> {
    const rows = await this.rows(earnerId);
    let row: Row | undefined = did ? rows.find((r) => r.did === did) : rows.find((r) => r.method === method);
    if (did && !row) throw new Problem('not_found', 'That DID is not one of your holder DIDs.');
    if (!row) {
      await this.create(earnerId, method);
      row = (await this.rows(earnerId)).find((r) => r.method === method);
      if (!row) throw new Problem('not_found', 'The account no longer exists.');
    }
    const held = row;
    return {
      did: held.did,
      method: held.method as HolderDidMethod,
      verificationMethod: held.verificationMethod,
      sign: async (data) => {
        const key = this.open(held);
        return sign(null, data, key);
      },
    };
  }

  private open(row: Row): KeyObject {
    let pkcs8: Buffer;
    try {
      pkcs8 = openSecret(
        this.kek,
        { kekId: row.kekId, wrappedDataKey: row.wrappedDataKey, sealedSecret: row.sealedPrivateKey },
        row.did,
      );
    } catch (err) {
      if (!(err instanceof SealError)) throw err;
      this.log?.error({ holderKey: row.id, reason: err.message }, 'holder key cannot be opened');
      throw new Problem(
        'holder_key_unavailable',
        'The holder key cannot be used right now; the service is not configured with the key that sealed it.',
      );
    }
    try {
      return createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
    } finally {
      pkcs8.fill(0);
    }
  }

  /** The export lists public keys only. */
  async exportSection(earnerId: string): Promise<Record<string, unknown>[]> {
    return (await this.rows(earnerId)).map((r) => ({
      did: r.did,
      method: r.method,
      verificationMethod: r.verificationMethod,
      publicKeyMultibase: r.publicKeyMultibase,
      createdAt: r.createdAt,
    }));
  }
}
