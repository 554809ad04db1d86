import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSafeFetcher, FetchError } from '../../../src/modules/openbadges/index.ts';
import { isBlockedAddress } from '../../../src/modules/openbadges/ip.ts';
import { type LocalServer, startServer } from './helpers.ts';

let canary: LocalServer;
let allowed: LocalServer;

beforeAll(async () => {
  canary = await startServer();
  allowed = await startServer((req, res) => {
    const port = canary.hostPort.split(':')[1];
    if (req.url === '/to-canary') {
      res.writeHead(302, { location: `http://127.0.0.1:${port}/via-redirect` });
      res.end();
    } else if (req.url === '/to-localhost') {
      res.writeHead(301, { location: `http://localhost:${port}/via-redirect` });
      res.end();
    } else if (req.url === '/to-file') {
      res.writeHead(302, { location: 'file:///etc/passwd' });
      res.end();
    } else if (req.url === '/loop') {
      res.writeHead(302, { location: '/loop' });
      res.end();
    } else if (req.url === '/hop') {
      res.writeHead(307, { location: '/json' });
      res.end();
    } else if (req.url === '/json') {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end('{"a":1}');
    } else if (req.url === '/big') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(Buffer.alloc(4096, 1));
    } else if (req.url === '/big-chunked') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write(Buffer.alloc(1000, 1));
      res.write(Buffer.alloc(1000, 1));
      res.end(Buffer.alloc(3000, 1));
    } else if (req.url === '/gzip-bomb') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(gzipSync(Buffer.alloc(10 * 1024 * 1024, 0x20)));
    } else if (req.url === '/gzip-ok') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(gzipSync(Buffer.from('{"zipped":true}')));
    } else if (req.url === '/slow') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{');
    } else if (req.url === '/gone') {
      res.writeHead(410, { 'content-type': 'text/plain' });
      res.end('gone');
    } else {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<p>hi</p>');
    }
  });
});

afterAll(async () => {
  await canary.close();
  await allowed.close();
});

function fetcher(extra: Parameters<typeof createSafeFetcher>[0] = {}) {
  return createSafeFetcher({
    allowPrivateHosts: [allowed.hostPort],
    timeoutMs: 2000,
    maxBytes: 2048,
    ...extra,
  });
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'no error';
  } catch (err) {
    expect(err).toBeInstanceOf(FetchError);
    return (err as FetchError).code;
  }
}

describe('createSafeFetcher: SSRF vectors never reach the canary', () => {
  const port = () => canary.hostPort.split(':')[1];
  const vectors: [string, () => string, string][] = [
    ['loopback literal', () => `http://127.0.0.1:${port()}/`, 'fetch_blocked_address'],
    ['decimal IPv4', () => `http://2130706433:${port()}/`, 'fetch_blocked_address'],
    ['hex short IPv4', () => `http://0x7f.1:${port()}/`, 'fetch_blocked_address'],
    ['octal IPv4', () => `http://017700000001:${port()}/`, 'fetch_blocked_address'],
    ['short IPv4', () => `http://127.1:${port()}/`, 'fetch_blocked_address'],
    ['IPv6 loopback', () => `http://[::1]:${port()}/`, 'fetch_blocked_address'],
    ['IPv4-mapped IPv6', () => `http://[::ffff:127.0.0.1]:${port()}/`, 'fetch_blocked_address'],
    ['IPv4-compatible IPv6', () => `http://[::127.0.0.1]:${port()}/`, 'fetch_blocked_address'],
    ['NAT64 translated', () => `http://[64:ff9b::7f00:1]:${port()}/`, 'fetch_blocked_address'],
    ['localhost', () => `http://localhost:${port()}/`, 'fetch_blocked_address'],
    ['unspecified 0.0.0.0', () => `http://0.0.0.0:${port()}/`, 'fetch_blocked_address'],
    ['unspecified [::]', () => `http://[::]:${port()}/`, 'fetch_blocked_address'],
    ['IPv6 zone id', () => `http://[fe80::1%25lo]:${port()}/`, 'fetch_bad_url'],
    ['cloud metadata', () => 'http://169.254.169.254/latest/meta-data/', 'fetch_blocked_address'],
    ['AWS IPv6 metadata', () => 'http://[fd00:ec2::254]/', 'fetch_blocked_address'],
    ['10/8', () => 'http://10.0.0.1/', 'fetch_blocked_address'],
    ['192.168/16', () => 'http://192.168.1.1/', 'fetch_blocked_address'],
    ['172.16/12', () => 'http://172.16.0.1/', 'fetch_blocked_address'],
    ['CGNAT 100.64/10', () => 'http://100.64.0.1/', 'fetch_blocked_address'],
    ['multicast', () => 'http://224.0.0.1/', 'fetch_blocked_address'],
    ['file scheme', () => 'file:///etc/passwd', 'fetch_bad_scheme'],
    ['gopher scheme', () => `gopher://127.0.0.1:${port()}/`, 'fetch_bad_scheme'],
    ['ftp scheme', () => `ftp://127.0.0.1:${port()}/`, 'fetch_bad_scheme'],
    ['data scheme', () => 'data:text/plain,hello', 'fetch_bad_scheme'],
    ['credentials in URL', () => `http://user:pw@${allowed.hostPort}/json`, 'fetch_credentials_in_url'],
    ['redirect to loopback', () => `${allowed.origin}/to-canary`, 'fetch_blocked_address'],
    ['redirect to localhost', () => `${allowed.origin}/to-localhost`, 'fetch_blocked_address'],
    ['redirect to file:', () => `${allowed.origin}/to-file`, 'fetch_bad_scheme'],
  ];
  for (const [name, url, code] of vectors) {
    it(`refuses ${name}`, async () => {
      expect(await codeOf(fetcher()(url()))).toBe(code);
    });
  }

  it('refuses a public-looking name that resolves to loopback (custom resolver)', async () => {
    const f = fetcher({ resolve: async () => [{ address: '127.0.0.1', family: 4 }] });
    expect(await codeOf(f(`http://badges.example.net:${port()}/`))).toBe('fetch_blocked_address');
  });

  it('refuses a name whose answers mix a public and an internal address', async () => {
    const f = fetcher({
      resolve: async () => [
        { address: '93.184.216.34', family: 4 },
        { address: '127.0.0.1', family: 4 },
      ],
    });
    expect(await codeOf(f(`http://mixed.example.net:${port()}/`))).toBe('fetch_blocked_address');
  });

  it('the canary saw no request at all', () => {
    expect(canary.hits).toEqual([]);
  });
});

describe('isBlockedAddress', () => {
  it('passes public unicast and blocks internal ranges', () => {
    expect(isBlockedAddress('93.184.216.34')).toBe(false);
    expect(isBlockedAddress('2606:4700::1111')).toBe(false);
    for (const a of [
      '127.0.0.1',
      '0.1.2.3',
      '198.18.0.1',
      '255.255.255.255',
      '2002:7f00:1::',
      'fe80::1',
      'nonsense',
    ]) {
      expect(isBlockedAddress(a), a).toBe(true);
    }
  });
});

describe('createSafeFetcher: behaviour on an allowed host', () => {
  it('fetches JSON and reports status, url, type and headers', async () => {
    const res = await fetcher()(`${allowed.origin}/json`, { accept: ['application/json'] });
    expect(res.status).toBe(200);
    expect(res.url).toBe(`${allowed.origin}/json`);
    expect(res.contentType).toContain('application/json');
    expect(JSON.parse(Buffer.from(res.body).toString())).toEqual({ a: 1 });
    expect(res.headers['content-type']).toContain('json');
  });

  it('follows a redirect and reports the final URL', async () => {
    const res = await fetcher()(`${allowed.origin}/hop`);
    expect(res.url).toBe(`${allowed.origin}/json`);
  });

  it('stops after maxRedirects', async () => {
    expect(await codeOf(fetcher({ maxRedirects: 3 })(`${allowed.origin}/loop`))).toBe(
      'fetch_too_many_redirects',
    );
  });

  it('refuses an unexpected content type', async () => {
    expect(
      await codeOf(fetcher()(`${allowed.origin}/html`, { accept: ['application/json', 'image/*'] })),
    ).toBe('fetch_bad_content_type');
  });

  it('returns non-2xx statuses (410 means revoked to the caller)', async () => {
    const res = await fetcher()(`${allowed.origin}/gone`, { accept: ['application/json'] });
    expect(res.status).toBe(410);
  });

  it('caps the body by declared length and while streaming', async () => {
    expect(await codeOf(fetcher()(`${allowed.origin}/big`))).toBe('fetch_too_large');
    expect(await codeOf(fetcher()(`${allowed.origin}/big-chunked`))).toBe('fetch_too_large');
  });

  it('caps the decompressed size (gzip bomb) but inflates honest gzip', async () => {
    expect(await codeOf(fetcher()(`${allowed.origin}/gzip-bomb`))).toBe('fetch_too_large');
    const ok = await fetcher()(`${allowed.origin}/gzip-ok`);
    expect(Buffer.from(ok.body).toString()).toBe('{"zipped":true}');
  });

  it('times out a stalled response', async () => {
    const started = Date.now();
    expect(await codeOf(fetcher({ timeoutMs: 300 })(`${allowed.origin}/slow`))).toBe('fetch_timeout');
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
