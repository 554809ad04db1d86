import { describe, expect, it } from 'vitest';
import {
  hashRecipient,
  matchRecipient,
  type RecipientHashAlgorithm,
} from '../../../src/modules/openbadges/index.ts';

const earner = [
  { address: 'pending@example.net', verified: false },
  { address: 'Learner@Example.org', verified: true },
];

describe('hashRecipient / matchRecipient', () => {
  const algorithms: RecipientHashAlgorithm[] = ['sha256', 'sha512', 'sha1', 'md5'];
  for (const alg of algorithms) {
    for (const salt of ['', 'pepper']) {
      it(`matches ${alg} ${salt ? 'with' : 'without'} salt, in lower and upper case hex`, () => {
        const identity = hashRecipient('learner@example.org', alg, salt);
        expect(identity.startsWith(`${alg}$`)).toBe(true);
        const claim = { identity, hashed: true, salt, type: 'email' };
        expect(matchRecipient(claim, earner)?.address).toBe('Learner@Example.org');
        const upper = `${alg.toUpperCase()}$${identity.split('$')[1]?.toUpperCase()}`;
        expect(matchRecipient({ ...claim, identity: upper }, earner)?.address).toBe('Learner@Example.org');
        expect(matchRecipient({ ...claim, salt: 'wrong' }, earner)).toBeNull();
      });
    }
  }

  it('matches plain addresses case-insensitively and reports unverified ones as such', () => {
    expect(matchRecipient({ identity: 'LEARNER@example.org', hashed: false }, earner)?.verified).toBe(true);
    expect(matchRecipient({ identity: 'pending@example.net', hashed: false }, earner)).toEqual({
      address: 'pending@example.net',
      verified: false,
    });
    expect(matchRecipient({ identity: 'someone@else.org', hashed: false }, earner)).toBeNull();
  });

  it('refuses identity types other than e-mail and unreadable hashes', () => {
    expect(
      matchRecipient({ identity: 'https://learner.example', hashed: false, type: 'url' }, earner),
    ).toBeNull();
    expect(matchRecipient({ identity: 'sha256$not-hex', hashed: true }, earner)).toBeNull();
  });
});
