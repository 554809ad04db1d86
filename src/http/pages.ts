// The service's own server-rendered pages (sign-in, consent, policies) share one layout and one
// set of headers: no script at all, one stylesheet allowed by its hash, no framing, no caching.
// Forms post to the page's own origin, and the browser is told to send that origin along
// (`same-origin` referrer policy): under `no-referrer`, Chromium sends `Origin: null`.
import { createHash } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { escapeHtml } from './html.ts';

export { escapeHtml } from './html.ts';

const STYLE = `body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a}
img{max-width:96px;max-height:96px}ul{padding-left:1.2rem}li{margin:.3rem 0}
div.choices form{display:inline}button{font-size:1rem;padding:.5rem 1.2rem;margin-right:.5rem}
label{display:block;margin:.8rem 0 .3rem}input[type=email],input[type=text],input[type=number]{font-size:1rem;padding:.4rem;width:100%;box-sizing:border-box}
.muted{color:#555;font-size:.9rem}.error{color:#9b1c1c}`;
const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE, 'utf8').digest('base64')}'`;

export function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>${body}</body></html>`;
}

export function hiddenField(name: string, value: string): string {
  return `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`;
}

/** Sends a page with headers that refuse framing, caching and any script. */
export function sendPage(
  reply: FastifyReply,
  status: number,
  html: string,
  extra: { imgOrigin?: string | null; formTargets?: string[] } = {},
): FastifyReply {
  const img = extra.imgOrigin ? `img-src ${extra.imgOrigin}` : "img-src 'none'";
  const formAction = `form-action 'self'${extra.formTargets?.length ? ` ${extra.formTargets.join(' ')}` : ''}`;
  return reply
    .code(status)
    .header(
      'content-security-policy',
      `default-src 'none'; style-src ${STYLE_HASH}; ${img}; ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
    )
    .header('x-frame-options', 'DENY')
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'same-origin')
    .type('text/html; charset=utf-8')
    .send(html);
}
