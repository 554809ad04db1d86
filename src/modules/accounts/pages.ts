// The backpack's own pages for people, rendered on the server with no script: signing in by
// e-mailed link (and creating the backpack, with the age question), and the privacy policy and
// terms this service keeps. A front end is optional: these pages are enough to sign in and to
// consent to an issuer platform or a front end.
import { escapeHtml, hiddenField, layout } from '../../http/pages.ts';

/** The service's pages a sign-in may return to; anything else lands on /sign-in. */
const RETURN_PATHS = new Set(['/v1/oauth/authorize', '/sign-in', '/privacy', '/terms']);

/**
 * `return_to` as a path on this service, or null. Only the service's own pages qualify, so a
 * sign-in link can never send the earner (or their fresh session) anywhere else.
 */
export function safeReturnTo(raw: string | undefined, publicUrl: URL): string | null {
  if (!raw || raw.length > 4000) return null;
  // "//host" and "/\host" name other hosts to a browser; control characters are refused too.
  if (!raw.startsWith('/') || raw.startsWith('//') || raw.includes('\\')) return null;
  if ([...raw].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) return null;
  let url: URL;
  try {
    url = new URL(raw, publicUrl.origin);
  } catch {
    return null;
  }
  if (url.origin !== publicUrl.origin || !RETURN_PATHS.has(url.pathname)) return null;
  return `${url.pathname}${url.search}`;
}

/** Where a pasted sign-in link or code puts its secret: the fragment's `code=`, or the bare code. */
export function codeFromPaste(raw: string): string {
  const text = raw.trim();
  const match = /(?:^|[#&]code=)([A-Za-z0-9_-]{43})$/.exec(text);
  return match?.[1] ?? text;
}

export interface FormContext {
  formToken: string;
  returnTo: string | null;
}

function common(ctx: FormContext): string {
  return `${hiddenField('form_token', ctx.formToken)}${ctx.returnTo ? hiddenField('return_to', ctx.returnTo) : ''}`;
}

function requestForm(ctx: FormContext): string {
  return `<form method="post" action="/sign-in/email-links">${common(ctx)}
<label for="email">Your e-mail address</label>
<input id="email" type="email" name="email" required maxlength="320" autocomplete="email">
<p><button type="submit">E-mail me a sign-in link</button></p></form>`;
}

function pasteForm(ctx: FormContext, prefilledCode?: string): string {
  return `<form method="post" action="/sign-in">${common(ctx)}
<label for="code">Paste the link from the e-mail (or the code in it)</label>
<input id="code" type="text" name="code" required maxlength="6000" autocomplete="off" spellcheck="false"${
    prefilledCode ? ` value="${escapeHtml(prefilledCode)}"` : ''
  }>
<p><button type="submit">Sign in</button></p></form>`;
}

const FOOTER = `<p class="muted"><a href="/privacy">Privacy policy</a> · <a href="/terms">Terms</a></p>`;

/**
 * The sign-in page. A mailed link opens it with the secret in the fragment, which browsers
 * never send to a server and which no script here reads: the earner pastes the link (or the
 * code beside it in the mail) into the form, and the secret travels in a POST body only.
 */
export function signInPage(ctx: FormContext, notice?: { text: string; error?: boolean }): string {
  const message = notice
    ? `<p class="${notice.error ? 'error' : 'muted'}" id="notice">${escapeHtml(notice.text)}</p>`
    : '';
  return layout(
    'Sign in to your backpack',
    `<h1>Sign in to your backpack</h1>${message}
<p>No password: we e-mail you a link. The first sign-in with an address creates your backpack.</p>
${requestForm(ctx)}
<h2>Got the e-mail?</h2>
<p class="muted">If you opened the link from the e-mail and landed here, paste that link below.</p>
${pasteForm(ctx)}${FOOTER}`,
  );
}

export function checkMailPage(ctx: FormContext, minutes: number): string {
  return layout(
    'Check your e-mail',
    `<h1>Check your e-mail</h1>
<p id="notice">If the address can receive mail, a sign-in link is on its way. It works once, for ${minutes} minutes.</p>
${pasteForm(ctx)}${FOOTER}`,
  );
}

/** First sign-in with an address: the backpack is created only for someone 13 or older. */
export function agePage(ctx: FormContext, code: string, minimumAge: number): string {
  return layout(
    'Create your backpack',
    `<h1>Create your backpack</h1>
<p>No backpack uses this address yet. Backpacks are for people ${minimumAge} or older; if you are younger, nothing about you is kept.</p>
<form method="post" action="/sign-in">${common(ctx)}${hiddenField('code', code)}
<label for="age">How old are you?</label>
<input id="age" type="number" name="age" required min="0" max="150" inputmode="numeric">
<p><button type="submit">Create my backpack</button></p></form>
<p class="muted">Read the <a href="/privacy">privacy policy</a> and the <a href="/terms">terms</a> first.</p>`,
  );
}

export function signedInPage(): string {
  return layout(
    'Signed in',
    `<h1>You are signed in to your backpack</h1>
<p>You can close this page, or go back to the site that sent you here.</p>${FOOTER}`,
  );
}

export function messagePage(title: string, text: string, retry?: FormContext): string {
  return layout(
    title,
    `<h1>${escapeHtml(title)}</h1><p id="notice">${escapeHtml(text)}</p>${
      retry
        ? `<p><a href="${escapeHtml(`/sign-in${retry.returnTo ? `?return_to=${encodeURIComponent(retry.returnTo)}` : ''}`)}">Start again</a></p>`
        : ''
    }${FOOTER}`,
  );
}
