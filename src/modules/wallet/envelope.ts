import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

// Envelope encryption of secrets at rest: each secret is sealed with a data key of its own
// (AES-256-GCM), and the data key with the key-encryption key from the configuration. Both are
// bound to a label (the holder DID), so a sealed value moved to another row does not open.
// Without the key-encryption key, the stored values are noise.

const VERSION = 'v1';

export class SealError extends Error {}

function seal(key: Buffer, plaintext: Buffer, label: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(label, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return [VERSION, iv, ciphertext, cipher.getAuthTag()]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

function open(key: Buffer, sealed: string, label: string): Buffer {
  const [version, iv, ciphertext, tag, ...rest] = sealed.split('.');
  if (
    version !== VERSION ||
    iv === undefined ||
    ciphertext === undefined ||
    tag === undefined ||
    rest.length
  ) {
    throw new SealError('not a sealed value');
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(label, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]);
  } catch {
    throw new SealError('the sealed value does not open with this key');
  }
}

/** Names a key-encryption key without revealing it, so a row tells which key sealed it. */
export function keyFingerprint(kek: Buffer): string {
  return createHash('sha256').update('holder-key-kek:').update(kek).digest('base64url').slice(0, 16);
}

export interface Sealed {
  kekId: string;
  wrappedDataKey: string;
  sealedSecret: string;
}

/** Seals `secret` under a fresh data key, itself sealed under `kek`. */
export function sealSecret(kek: Buffer, secret: Buffer, label: string): Sealed {
  const dataKey = randomBytes(32);
  try {
    return {
      kekId: keyFingerprint(kek),
      wrappedDataKey: seal(kek, dataKey, `data-key:${label}`),
      sealedSecret: seal(dataKey, secret, `secret:${label}`),
    };
  } finally {
    dataKey.fill(0);
  }
}

/** Opens what sealSecret made; SealError when the key-encryption key or the label is not the one used. */
export function openSecret(kek: Buffer, sealed: Sealed, label: string): Buffer {
  if (sealed.kekId !== keyFingerprint(kek)) throw new SealError('sealed under another key-encryption key');
  const dataKey = open(kek, sealed.wrappedDataKey, `data-key:${label}`);
  try {
    return open(dataKey, sealed.sealedSecret, `secret:${label}`);
  } finally {
    dataKey.fill(0);
  }
}
