// The public share page in a real browser: headless Chromium loads it from the app listening
// on a loopback port, with no JavaScript of ours, under the page's Content-Security-Policy.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { type Database, openDatabase } from '../../src/db/client.ts';
import { applyMigrations } from '../../src/db/migrations.ts';
import { testConfig } from '../support/app.ts';
import { insertBadge, solidPng } from '../support/badge-rows.ts';
import { createEmptyDatabase } from '../support/databases.ts';
import { createEarner, type TestEarner } from '../support/earners.ts';
import { freePort, PROJECT_ROOT } from '../support/server.ts';

const CHROMIUM = '/usr/bin/chromium';
const missing = !existsSync(CHROMIUM);
if (missing && !process.env.CI) {
  console.warn(`share page browser test SKIPPED: ${CHROMIUM} is absent (apt-get install -y chromium)`);
}

describe.skipIf(missing && !process.env.CI)('the share page in headless Chromium', () => {
  let app: FastifyInstance;
  let db: Database;
  let drop: () => Promise<void>;
  let browser: Browser;
  let base: string;
  let earner: TestEarner;
  let shareUrl: string;

  beforeAll(async () => {
    const created = await createEmptyDatabase('sqlite');
    drop = created.drop;
    await applyMigrations(created.url);
    db = await openDatabase(created.url);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    app = await buildApp({ config: testConfig({ PUBLIC_URL: base }), db, logger: false });
    await app.listen({ host: '127.0.0.1', port });

    earner = await createEarner(app, [`Grace.Hopper.${Date.now()}@Example.org`]);
    const recipient = (earner.addresses[0] ?? '').toLowerCase();
    const headers = { cookie: earner.session.cookie, origin: base };
    const ids = [
      await insertBadge(app, earner.id, {
        recipient,
        name: '<script>window.__injected = 1</script>Compilers',
        description: '<img src=x onerror="window.__injected = 2">Wrote the first compiler.',
        image: { contentType: 'image/png', bytes: solidPng([200, 40, 40], 32) },
      }),
      await insertBadge(app, earner.id, {
        recipient,
        name: 'Navy service',
        status: 'revoked',
        bakedImage: true,
      }),
      await insertBadge(app, earner.id, {
        recipient,
        name: 'COBOL',
        expiresAt: new Date('2020-01-01T00:00:00Z'),
        image: {
          contentType: 'image/svg+xml',
          bytes: Buffer.from(
            '<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32"><circle cx="16" cy="16" r="14" fill="green"/></svg>',
          ),
        },
      }),
    ];
    const group = await app.inject({
      method: 'POST',
      url: '/v1/groups',
      headers,
      payload: { name: 'Pioneer badges', badgeIds: ids },
    });
    const link = await app.inject({
      method: 'POST',
      url: '/v1/share-links',
      headers,
      payload: { groupId: group.json().id },
    });
    shareUrl = link.json().url;
    expect(shareUrl.startsWith(base)).toBe(true);

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await db?.close();
    await drop?.();
  });

  it('renders without script, blocks injected script, shows images and statuses, and checks an address', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    // Runs through the DevTools protocol, outside the page's policy: it only records violations.
    await page.addInitScript(`
      window.__violations = [];
      document.addEventListener('securitypolicyviolation', (e) => {
        window.__violations.push(e.violatedDirective + ' ' + e.blockedURI);
      });
    `);
    const consoleMessages: string[] = [];
    page.on('console', (m) => consoleMessages.push(m.text()));

    const response = await page.goto(shareUrl, { waitUntil: 'load' });
    expect(response?.status()).toBe(200);
    const csp = response?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('script-src');

    expect(await page.title()).toBe('Pioneer badges');
    expect(await page.locator('h2').allTextContents()).toEqual(
      expect.arrayContaining(['<script>window.__injected = 1</script>Compilers', 'Navy service', 'COBOL']),
    );
    expect(await page.locator('.status').allTextContents()).toEqual([
      'Valid',
      'Revoked by the issuer',
      'Expired',
    ]);
    expect(await page.evaluate('document.scripts.length')).toBe(0);
    expect(await page.evaluate('window.__injected')).toBeUndefined();

    // The inline stylesheet is allowed by its hash: the layout rule applies.
    expect(await page.evaluate('getComputedStyle(document.body).maxWidth')).toBe('768px');
    // Every image loads from the link's own image route.
    const images = await page.evaluate<{ src: string; width: number }[]>(
      "[...document.images].map((img) => ({ src: img.getAttribute('src'), width: img.naturalWidth }))",
    );
    expect(images).toHaveLength(3);
    for (const img of images) {
      expect(img.src).toMatch(/^\/share\/[A-Za-z0-9_-]{43}\/images\/\d$/);
      expect(img.width).toBeGreaterThan(0);
    }

    // A script added to the page at run time is refused by the policy.
    await page.evaluate(`
      const s = document.createElement('script');
      s.textContent = 'window.__injected = 3';
      document.body.append(s);
    `);
    await page.waitForFunction('window.__violations.length > 0');
    expect(await page.evaluate('window.__injected')).toBeUndefined();
    const violations = await page.evaluate<string[]>('window.__violations');
    expect(violations.every((v) => v.startsWith('script-src'))).toBe(true);
    expect(consoleMessages.some((m) => /Content Security Policy/i.test(m))).toBe(true);

    const html = await page.content();
    expect(html.toLowerCase()).not.toContain((earner.addresses[0] ?? '').toLowerCase());

    mkdirSync(join(PROJECT_ROOT, 'test-results'), { recursive: true });
    const shot = join(PROJECT_ROOT, 'test-results', 'share-page.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(1000);

    // The address check works as a plain form.
    await page.fill('input[name=email]', (earner.addresses[0] ?? '').toUpperCase());
    await Promise.all([page.waitForURL(/recipient-checks$/), page.click('button[type=submit]')]);
    expect(await page.locator('#result').textContent()).toBe(
      'Yes: all 3 badges were awarded to that address.',
    );
    expect((await page.content()).toLowerCase()).not.toContain((earner.addresses[0] ?? '').toLowerCase());
    await context.close();
  });
});
