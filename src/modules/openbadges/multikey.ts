import { createPublicKey, ECDH, type KeyObject } from 'node:crypto';

// Multikey (W3C Controlled Identifiers): a multicodec header, then the raw public key, multibase base58btc.
// Elliptic-curve keys travel as compressed points; node:crypto takes them as JWK after decompression.

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/** Longest key text decoded: a P-384 multikey is 70 characters; anything far above is not a key. */
const MAX_BASE58 = 256;

export function base58btcDecode(s: string): Uint8Array | null {
  if (s.length > MAX_BASE58) return null;
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

export function base58btcEncode(bytes: Uint8Array): string {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  let out = '';
  while (n > 0n) {
    out = ALPHABET[Number(n % 58n)] + out;
    n /= 58n;
  }
  for (const b of bytes) {
    if (b !== 0) break;
    out = `1${out}`;
  }
  return out;
}

interface Codec {
  header: [number, number];
  /** Length of the key after the header. */
  length: number;
  crv: 'Ed25519' | 'P-256' | 'P-384';
  /** OpenSSL's curve name, for decompressing points. */
  curve?: string;
}

const CODECS: Codec[] = [
  { header: [0xed, 0x01], length: 32, crv: 'Ed25519' },
  { header: [0x80, 0x24], length: 33, crv: 'P-256', curve: 'prime256v1' },
  { header: [0x81, 0x24], length: 49, crv: 'P-384', curve: 'secp384r1' },
];

/** A public key from its multicodec bytes (header included), or null when the codec or the point is wrong. */
export function publicKeyFromMulticodec(bytes: Uint8Array): KeyObject | null {
  const codec = CODECS.find(
    (c) => bytes.length === c.length + 2 && bytes[0] === c.header[0] && bytes[1] === c.header[1],
  );
  if (!codec) return null;
  const raw = Buffer.from(bytes.subarray(2));
  try {
    if (!codec.curve) {
      return createPublicKey({
        key: { kty: 'OKP', crv: codec.crv, x: raw.toString('base64url') },
        format: 'jwk',
      });
    }
    // Throws on a point that is not on the curve.
    const point = ECDH.convertKey(raw, codec.curve, undefined, undefined, 'uncompressed') as Buffer;
    const size = (point.length - 1) / 2;
    return createPublicKey({
      key: {
        kty: 'EC',
        crv: codec.crv,
        x: point.subarray(1, 1 + size).toString('base64url'),
        y: point.subarray(1 + size).toString('base64url'),
      },
      format: 'jwk',
    });
  } catch {
    return null;
  }
}

/** An Ed25519 (`z6Mk…`), P-256 (`zDn…`) or P-384 (`z82…`) Multikey; null for anything else. */
export function publicKeyFromMultibase(multibase: string): KeyObject | null {
  if (!multibase.startsWith('z')) return null;
  const bytes = base58btcDecode(multibase.slice(1));
  return bytes ? publicKeyFromMulticodec(bytes) : null;
}

/** The Multikey text of an Ed25519, P-256 or P-384 public key (compressed point for the curves). */
export function publicKeyToMultibase(key: KeyObject): string | null {
  const jwk = key.export({ format: 'jwk' });
  const codec = CODECS.find((c) => c.crv === jwk.crv);
  if (!codec || !jwk.x) return null;
  let raw = Buffer.from(jwk.x, 'base64url');
  if (codec.curve) {
    const y = Buffer.from(jwk.y ?? '', 'base64url');
    const last = y[y.length - 1] ?? 0;
    raw = Buffer.concat([Buffer.from([last & 1 ? 0x03 : 0x02]), raw]);
  }
  return `z${base58btcEncode(Buffer.concat([Buffer.from(codec.header), raw]))}`;
}
