import { describe, expect, it } from 'vitest';
import { scrubEmails, truncateIp } from '../../src/http/logging.ts';

describe('log hygiene', () => {
  it('truncates client addresses to their network', () => {
    expect(truncateIp('203.0.113.77')).toBe('203.0.113.0');
    expect(truncateIp('::ffff:198.51.100.9')).toBe('198.51.100.0');
    expect(truncateIp('2001:db8:85a3:8d3:1319:8a2e:370:7348')).toBe('2001:db8:85a3::');
    expect(truncateIp('::1')).toBe('::');
    expect(truncateIp(undefined)).toBeUndefined();
  });

  it('removes e-mail addresses from strings', () => {
    expect(scrubEmails('sign-in link for ada.lovelace+x@example.org sent')).toBe(
      'sign-in link for [email] sent',
    );
  });
});
