// The server-rendered pages of the authorization endpoint: the consent form, "sign in first",
// and errors that must not go back to an unverified redirect URI. No scripts anywhere; the
// page's CSP allows only its own stylesheet (by hash), the platform's logo and posting the form.
import { escapeHtml, hiddenField, layout } from '../../http/pages.ts';
import { describeScope } from './scopes.ts';

export { escapeHtml, sendPage } from '../../http/pages.ts';

function origin(raw: string | null): string | null {
  if (!raw) return null;
  try {
    return new URL(raw).origin;
  } catch {
    return null;
  }
}

export function consentPage(input: {
  action: string;
  /** A front end acts as the earner on their backpack; an issuer platform pushes badges to it. */
  kind: 'issuer_platform' | 'front_end';
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
  const hidden = hiddenField;
  const button = (decision: 'approve' | 'deny', label: string) =>
    `<form method="post" action="${escapeHtml(input.action)}">${hidden('request_id', input.requestId)}${hidden(
      'csrf_token',
      input.csrf,
    )}${hidden('decision', decision)}<button type="submit">${label}</button></form>`;
  const lead =
    input.kind === 'front_end'
      ? `${escapeHtml(input.clientName)} wants to open your backpack`
      : `${escapeHtml(input.clientName)} wants to connect to your backpack`;
  const body = `${logo}<h1>${lead}</h1>
<p>Site: <a href="${escapeHtml(input.clientUri)}" rel="noopener noreferrer">${escapeHtml(input.clientUri)}</a></p>
<p>If you allow it, ${escapeHtml(input.clientName)} may:</p>
<ul>${input.scopes.map((s) => `<li>${escapeHtml(describeScope(s))}</li>`).join('')}</ul>
<p class="muted">You can disconnect it at any time in your backpack's settings. ${links}</p>
<div class="choices">${button('approve', 'Allow')}${button('deny', 'Deny')}</div>
<p class="muted">After your choice you return to ${escapeHtml(origin(input.redirectUri) ?? input.redirectUri)}.</p>`;
  const target = origin(input.redirectUri);
  return {
    html: layout(`Connect ${input.clientName}`, body),
    imgOrigin: origin(input.logoUri),
    formTargets: target ? [target] : [],
  };
}

export function signInPage(clientName: string, signInUrl: string): string {
  return layout(
    'Sign in first',
    `<h1>Sign in to your backpack first</h1>
<p>${escapeHtml(clientName)} asks to connect to your backpack. Sign in (or create your backpack), and
you will come back here to decide.</p><p><a id="sign-in" href="${escapeHtml(signInUrl)}">Sign in</a></p>`,
  );
}

export function errorPage(message: string): string {
  return layout(
    'This request cannot be completed',
    `<h1>This request cannot be completed</h1><p>${escapeHtml(message)}</p>`,
  );
}
