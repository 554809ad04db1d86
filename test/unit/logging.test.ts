import { describe, expect, it } from 'vitest';
import { loggedPath, scrubEmails, truncateIp } from '../../src/http/logging.ts';

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

  it('removes encoded addresses too', () => {
    for (const written of [
      'ada%40example.org',
      'ada%2540example.org',
      'ada&#64;example.org',
      'ada&commat;example.org',
      'ada\uFF20example.org',
      'ADA%40EXAMPLE.ORG',
    ]) {
      expect(scrubEmails(`mail to ${written} sent`), written).toBe('mail to [email] sent');
    }
  });

  it('logs a matched route by its pattern, whatever its path holds', () => {
    const token = 'q5F0d3bV6u3n8aTz2Qm0xK1c7y9P4wLr5sJ8eHbN2gA';
    expect(loggedPath(`/share/${token}?format=json`, '/share/:token')).toBe('/share/:token');
    expect(loggedPath('/v1/displayers/ada%40example.org/groups', '/v1/displayers/:handle/groups')).toBe(
      '/v1/displayers/:handle/groups',
    );
  });

  it('decodes an unmatched path, then drops addresses, secrets and the query', () => {
    const token = 'q5F0d3bV6u3n8aTz2Qm0xK1c7y9P4wLr5sJ8eHbN2gA';
    expect(loggedPath(`/share/${token}/x?code=${token}`)).toBe('/share/[redacted]/x');
    expect(loggedPath('/v1/x/ada%40example.org')).toBe('/v1/x/[email]');
    expect(loggedPath('/v1/x/ada%2540localhost/y')).toBe('/v1/x/[email]/y');
    expect(loggedPath('/v1/x/ada@localhost')).toBe('/v1/x/[email]');
    expect(loggedPath('/v1/x/%E0%A4%A/%ZZ')).toBe('/v1/x/%E0%A4%A/%ZZ');
    expect(loggedPath('/v1/x/caf%C3%A9')).toBe('/v1/x/caf?');
    expect(loggedPath('/v1/groups', '*')).toBe('/v1/groups');
  });
});
