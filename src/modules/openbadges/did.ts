import { createPublicKey, type KeyObject } from 'node:crypto';
import { fetchJson } from './common.ts';
import type { Fetcher } from './types.ts';
import { asArray, isRecord, type JsonRecord, str } from './util.ts';

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

export function base58btcDecode(s: string): Uint8Array | null {
  if (s.length > 256) return null;
  let n = 0n;
  for (const ch of s) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) return null;
    n = n * 58n + BigInt(v);
  }
  const bytes: number[] = [];
  while (n > 0n) {
    bytes.unshift(Number(n & 0xffn));
    n >>= 8n;
  }
  for (const ch of s) {
    if (ch !== '1') break;
    bytes.unshift(0);
  }
  return Uint8Array.from(bytes);
}

/** An Ed25519 Multikey (`z6Mk…`): multibase base58btc of 0xed01 followed by the 32-byte key. */
export function ed25519FromMultibase(multibase: string): KeyObject | null {
  if (!multibase.startsWith('z')) return null;
  const bytes = base58btcDecode(multibase.slice(1));
  if (bytes?.length !== 34 || bytes[0] !== 0xed || bytes[1] !== 0x01) return null;
  const x = Buffer.from(bytes.subarray(2)).toString('base64url');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
}

export interface ResolvedKey {
  key: KeyObject;
  /** Who controls the key, when a document said so. */
  controller: string | null;
  /** How the key was obtained, for the check message. */
  how: 'did:key' | 'fragment' | 'document';
}

function keyFromMethod(vm: JsonRecord): KeyObject | null {
  const mb = str(vm.publicKeyMultibase);
  if (mb) return ed25519FromMultibase(mb);
  if (isRecord(vm.publicKeyJwk)) {
    try {
      return createPublicKey({ key: vm.publicKeyJwk as import('node:crypto').JsonWebKey, format: 'jwk' });
    } catch {
      return null;
    }
  }
  return null;
}

function didWebUrl(did: string): string | null {
  const parts = did.slice('did:web:'.length).split(':').map(decodeURIComponent);
  const host = parts.shift();
  if (!host) return null;
  return parts.length
    ? `https://${host}/${parts.join('/')}/did.json`
    : `https://${host}/.well-known/did.json`;
}

/**
 * Resolves a verification method to a public key: did:key locally, a multikey fragment locally, did:web
 * and HTTPS key documents through the safe fetcher. Other methods are refused (no external resolvers).
 */
export async function resolveVerificationMethod(vm: string, fetcher: Fetcher): Promise<ResolvedKey | string> {
  const [base, fragment] = vm.split('#', 2) as [string, string | undefined];
  if (base.startsWith('did:key:')) {
    const key = ed25519FromMultibase(base.slice('did:key:'.length));
    return key ? { key, controller: base, how: 'did:key' } : 'did:key is not an Ed25519 key';
  }
  if (fragment) {
    const key = ed25519FromMultibase(fragment);
    if (key) return { key, controller: base, how: 'fragment' };
  }
  let docUrl: string | null = null;
  if (base.startsWith('did:web:')) docUrl = didWebUrl(base);
  else if (/^https?:\/\//.test(base)) docUrl = base;
  if (!docUrl) return `cannot resolve verification method ${vm}`;
  const res = await fetchJson(fetcher, docUrl);
  if (!res.ok || !isRecord(res.doc)) return res.ok ? `${docUrl} is not a JSON object` : res.reason;
  const doc = res.doc;
  const methods = [doc, ...asArray(doc.verificationMethod), ...asArray(doc.assertionMethod)].filter(isRecord);
  const match = methods.find((m) => str(m.id) === vm || (fragment && str(m.id) === `#${fragment}`));
  if (!match) return `${docUrl} does not list ${vm}`;
  const key = keyFromMethod(match);
  if (!key) return `${vm} has no usable public key`;
  return { key, controller: str(match.controller) ?? str(doc.id), how: 'document' };
}
