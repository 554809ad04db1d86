// The public page of a share link, rendered on the server: readable without JavaScript, with
// Open Graph and Twitter card tags, and styled by one inline stylesheet allowed by its hash in
// a Content-Security-Policy that allows no script at all.
import { createHash } from 'node:crypto';
import { html, Safe } from '../../http/html.ts';
import type { SharedBadgeView, SharedPageView } from './service.ts';

const CSS = `
body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b;background:#fff}
h1{font-size:1.6rem;margin-bottom:.25rem}
ul.badges{list-style:none;padding:0}
li.badge{display:flex;gap:1rem;border:1px solid #ddd;border-radius:.5rem;padding:1rem;margin:1rem 0}
li.badge img{width:96px;height:96px;object-fit:contain;flex:none}
.status{display:inline-block;padding:0 .5rem;border-radius:1rem;font-size:.85rem;font-weight:600}
.status-valid{background:#d8f3dc;color:#1b4332}
.status-expired{background:#fff3bf;color:#5c3c00}
.status-revoked,.status-invalid{background:#ffe3e3;color:#7d1a1a}
.status-unverified{background:#e7e7e7;color:#333}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:.5rem 0}
dt{color:#555}
code{word-break:break-all;font-size:.8rem}
form{margin:2rem 0;padding:1rem;border-top:1px solid #ddd}
`.trim();

const STYLESHEET = new Safe(CSS);
const STYLE_HASH = `'sha256-${createHash('sha256').update(CSS, 'utf8').digest('base64')}'`;

/** No script source at all: `default-src 'none'` forbids scripts, and nothing allows them back. */
export const PAGE_CSP = [
  "default-src 'none'",
  "img-src 'self' data:",
  `style-src ${STYLE_HASH}`,
  "frame-ancestors 'none'",
  "form-action 'self'",
  "base-uri 'none'",
].join('; ');

const STATUS_TEXT: Record<SharedBadgeView['status'], string> = {
  valid: 'Valid',
  expired: 'Expired',
  revoked: 'Revoked by the issuer',
  invalid: 'Could not be verified',
  unverified: 'Not verified: a check could not be made yet',
};

function date(iso: string | null): string {
  return iso ? iso.slice(0, 10) : '';
}

function badgeItem(b: SharedBadgeView): Safe {
  return html`<li class="badge">
  ${b.imageUrl ? html`<img src="${new URL(b.imageUrl).pathname}" alt="">` : null}
  <div>
    <h2>${b.name}</h2>
    <p><span class="status status-${b.status}">${STATUS_TEXT[b.status]}</span>${b.statusReason ? html` <small>${b.statusReason.message}</small>` : null}</p>
    <p>${b.description}</p>
    <dl>
      <dt>Issuer</dt><dd>${b.issuer.url ? html`<a href="${b.issuer.url}" rel="nofollow noopener">${b.issuer.name}</a>` : b.issuer.name}</dd>
      <dt>Issued</dt><dd><time datetime="${b.issuedOn}">${date(b.issuedOn)}</time></dd>
      ${b.expiresAt ? html`<dt>Expires</dt><dd><time datetime="${b.expiresAt}">${date(b.expiresAt)}</time></dd>` : null}
      ${b.criteriaUrl ? html`<dt>Criteria</dt><dd><a href="${b.criteriaUrl}" rel="nofollow noopener">${b.criteriaUrl}</a></dd>` : null}
    </dl>
  </div>
</li>`;
}

/** Only http(s) links are rendered as links: a `javascript:` URL from an issuer stays text. */
function safeLinks(b: SharedBadgeView): SharedBadgeView {
  const ok = (u: string | null) => (u && /^https?:\/\//i.test(u) ? u : null);
  return { ...b, issuer: { ...b.issuer, url: ok(b.issuer.url) }, criteriaUrl: ok(b.criteriaUrl) };
}

export function renderPage(page: SharedPageView, oembedUrl: string): string {
  const badges = page.badges.map(safeLinks);
  const summary =
    page.description ||
    (page.kind === 'group'
      ? `${badges.length} badge${badges.length === 1 ? '' : 's'}: ${badges.map((b) => b.name).join(', ')}`
      : `A badge from ${badges[0]?.issuer.name ?? 'its issuer'}`);
  const image = badges.find((b) => b.imageUrl)?.imageUrl ?? null;
  const checkPath = new URL(page.recipientCheckUrl).pathname;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${page.title}</title>
<meta name="description" content="${summary}">
<meta property="og:type" content="website">
<meta property="og:title" content="${page.title}">
<meta property="og:description" content="${summary}">
<meta property="og:url" content="${page.url}">
${image ? html`<meta property="og:image" content="${image}">` : null}
<meta name="twitter:card" content="summary">
<meta name="twitter:title" content="${page.title}">
<meta name="twitter:description" content="${summary}">
${image ? html`<meta name="twitter:image" content="${image}">` : null}
<link rel="alternate" type="application/json" href="${page.url}?format=json">
<link rel="alternate" type="application/json+oembed" href="${oembedUrl}" title="${page.title}">
<style>${STYLESHEET}</style>
</head>
<body>
<main>
<h1>${page.title}</h1>
${page.description ? html`<p>${page.description}</p>` : null}
<ul class="badges">
${badges.map(badgeItem)}
</ul>
<form method="post" action="${checkPath}">
  <h2>Check an e-mail address</h2>
  <p>Were these badges awarded to an address you know? The answer compares hashes; no address is shown.</p>
  <label>E-mail address <input type="email" name="email" required maxlength="320" autocomplete="off"></label>
  <button type="submit">Check</button>
</form>
</main>
</body>
</html>
`.html;
}

export function renderCheckResult(
  page: { title: string; url: string },
  result: { awarded: boolean; matchingBadges: number; totalBadges: number },
): string {
  const message = result.awarded
    ? result.totalBadges === 1
      ? 'Yes: this badge was awarded to that address.'
      : `Yes: all ${result.totalBadges} badges were awarded to that address.`
    : result.matchingBadges === 0
      ? 'No: none of these badges was awarded to that address.'
      : `${result.matchingBadges} of ${result.totalBadges} badges were awarded to that address.`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${page.title}: address check</title>
<style>${STYLESHEET}</style>
</head>
<body>
<main>
<h1>${page.title}</h1>
<p id="result">${message}</p>
<p><a href="${new URL(page.url).pathname}">Back to the badges</a></p>
</main>
</body>
</html>
`.html;
}

/** The oEmbed snippet: a link and a line of text, no iframe and no script. */
export function oembedHtml(page: SharedPageView): string {
  const count = page.badges.length;
  return html`<blockquote class="badge-backpack-share"><a href="${page.url}">${page.title}</a> (${count} badge${count === 1 ? '' : 's'})</blockquote>`
    .html;
}
