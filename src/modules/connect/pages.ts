// The server-rendered pages of the authorization endpoint: the consent form, "sign in first",
// and errors that must not go back to an unverified redirect URI. No scripts anywhere; the
// page's CSP allows only its own stylesheet (by hash), the platform's logo and posting the form.
import { createHash } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { describeScope } from './scopes.ts';

const STYLE = `body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a}
img{max-width:96px;max-height:96px}ul{padding-left:1.2rem}li{margin:.3rem 0}
form{display:inline}button{font-size:1rem;padding:.5rem 1.2rem;margin-right:.5rem}
.muted{color:#555;font-size:.9rem}`;
const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE, 'utf8').digest('base64')}'`;

export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>${body}</body></html>`;
}

function origin(raw: string | null): string | null {
  if (!raw) return null;
  try {
    return new URL(raw).origin;
  } catch {
    return null;
  }
}

/** Sends a page with headers that refuse framing, caching and any script. */
export function sendPage(
  reply: FastifyReply,
  status: number,
  html: string,
  extra: { imgOrigin?: string | null; formTargets?: string[] } = {},
): FastifyReply {
  const img = extra.imgOrigin ? `img-src ${extra.imgOrigin}` : "img-src 'none'";
  const formAction = extra.formTargets?.length
    ? `form-action 'self' ${extra.formTargets.join(' ')}`
    : "form-action 'none'";
  return reply
    .code(status)
    .header(
      'content-security-policy',
      `default-src 'none'; style-src ${STYLE_HASH}; ${img}; ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
    )
    .header('x-frame-options', 'DENY')
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .type('text/html; charset=utf-8')
    .send(html);
}

export function consentPage(input: {
  action: string;
  requestId: string;
  csrf: string;
  clientName: string;
  clientUri: string;
  logoUri: string | null;
  tosUri: string | null;
  policyUri: string | null;
  redirectUri: string;
  scopes: string[];
}): { html: string; imgOrigin: string | null; formTargets: string[] } {
  const logo = input.logoUri ? `<p><img src="${escapeHtml(input.logoUri)}" alt=""></p>` : '';
  const links = [
    input.tosUri ? `<a href="${escapeHtml(input.tosUri)}" rel="noopener noreferrer">terms</a>` : '',
    input.policyUri
      ? `<a href="${escapeHtml(input.policyUri)}" rel="noopener noreferrer">privacy policy</a>`
      : '',
  ]
    .filter(Boolean)
    .join(' · ');
  const hidden = (name: string, value: string) =>
    `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`;
  const button = (decision: 'approve' | 'deny', label: string) =>
    `<form method="post" action="${escapeHtml(input.action)}">${hidden('request_id', input.requestId)}${hidden(
      'csrf_token',
      input.csrf,
    )}${hidden('decision', decision)}<button type="submit">${label}</button></form>`;
  const body = `${logo}<h1>${escapeHtml(input.clientName)} wants to connect to your backpack</h1>
<p>Site: <a href="${escapeHtml(input.clientUri)}" rel="noopener noreferrer">${escapeHtml(input.clientUri)}</a></p>
<p>If you allow it, ${escapeHtml(input.clientName)} may:</p>
<ul>${input.scopes.map((s) => `<li>${escapeHtml(describeScope(s))}</li>`).join('')}</ul>
<p class="muted">You can disconnect it at any time in your backpack's settings. ${links}</p>
${button('approve', 'Allow')}${button('deny', 'Deny')}
<p class="muted">After your choice you return to ${escapeHtml(origin(input.redirectUri) ?? input.redirectUri)}.</p>`;
  const target = origin(input.redirectUri);
  return {
    html: layout(`Connect ${input.clientName}`, body),
    imgOrigin: origin(input.logoUri),
    formTargets: target ? [target] : [],
  };
}

export function signInPage(signInUrl: string): string {
  return layout(
    'Sign in first',
    `<h1>Sign in to your backpack first</h1>
<p>An issuer platform asked to connect to your backpack. Sign in, then return to the platform and
start again.</p><p><a href="${escapeHtml(signInUrl)}">Sign in</a></p>`,
  );
}

export function errorPage(message: string): string {
  return layout(
    'This request cannot be completed',
    `<h1>This request cannot be completed</h1><p>${escapeHtml(message)}</p>`,
  );
}
