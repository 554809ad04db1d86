import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openSecret, SealError, sealSecret } from '../../../src/modules/wallet/envelope.ts';

describe('envelope encryption of holder keys', () => {
  const kek = randomBytes(32);
  const secret = randomBytes(48);

  it('opens with the key-encryption key and the label it was sealed under', () => {
    const sealed = sealSecret(kek, secret, 'did:key:z6MkA');
    expect(openSecret(kek, sealed, 'did:key:z6MkA')).toEqual(secret);
    // Nothing stored carries the secret or the data key in the clear.
    const stored = JSON.stringify(sealed);
    for (const form of ['hex', 'base64', 'base64url'] as const) {
      expect(stored).not.toContain(secret.toString(form));
    }
  });

  it('does not open with another key-encryption key, another label or a changed byte', () => {
    const sealed = sealSecret(kek, secret, 'did:key:z6MkA');
    expect(() => openSecret(randomBytes(32), sealed, 'did:key:z6MkA')).toThrow(SealError);
    // Same fingerprint check bypassed: the data key itself does not open under another key.
    expect(() => openSecret(randomBytes(32), { ...sealed, kekId: 'x' }, 'did:key:z6MkA')).toThrow(SealError);
    expect(() => openSecret(kek, sealed, 'did:key:z6MkB')).toThrow(SealError);
    const other = sealSecret(kek, randomBytes(48), 'did:key:z6MkB');
    // A data key moved from another row does not open this row's secret.
    expect(() =>
      openSecret(kek, { ...sealed, wrappedDataKey: other.wrappedDataKey }, 'did:key:z6MkA'),
    ).toThrow(SealError);
    const parts = sealed.sealedSecret.split('.');
    const body = Buffer.from(parts[2] as string, 'base64url');
    body[0] = (body[0] as number) ^ 1;
    parts[2] = body.toString('base64url');
    expect(() => openSecret(kek, { ...sealed, sealedSecret: parts.join('.') }, 'did:key:z6MkA')).toThrow(
      SealError,
    );
  });

  it('uses a fresh data key and nonce for every secret', () => {
    const a = sealSecret(kek, secret, 'l');
    const b = sealSecret(kek, secret, 'l');
    expect(a.wrappedDataKey).not.toBe(b.wrappedDataKey);
    expect(a.sealedSecret).not.toBe(b.sealedSecret);
  });
});
