// The privacy policy and terms this service keeps, written for earners. Each promise here is
// one the code keeps and a test checks (see the design's table of privacy promises); an
// operator with their own documents points PRIVACY_POLICY_URL / TERMS_OF_SERVICE_URL at them.
import { escapeHtml, layout } from '../../http/pages.ts';
import { MINIMUM_AGE } from './sign-in.ts';

export interface PolicyFacts {
  serviceUrl: string;
  sessionTtlHours: number;
  sessionIdleHours: number;
  codeTtlMinutes: number;
}

function days(hours: number): string {
  return hours % 24 === 0 ? `${hours / 24} days` : `${hours} hours`;
}

export function privacyPage(facts: PolicyFacts): string {
  const service = escapeHtml(facts.serviceUrl);
  return layout(
    'Privacy policy',
    `<h1>Privacy policy</h1>
<p>This backpack (${service}) keeps the digital badges that issuers award you. This page says what it
keeps about you, who sees it, and how you make it forget.</p>
<h2>Who may have a backpack</h2>
<p>Only people ${MINIMUM_AGE} or older. When you create a backpack we ask your age; if you are younger,
we keep nothing about you, not even the address you typed.</p>
<h2>What we keep</h2>
<ul>
<li>Your e-mail addresses, so that badges awarded to them can be checked as yours and so that you can sign in.</li>
<li>The badges you add or allow issuers to add, with their images and what we found when we checked them.</li>
<li>Your groups, share links, display name and settings.</li>
<li>Your sessions and tokens (with a coarse description of the browser, never its full identification).</li>
</ul>
<h2>Private until you share</h2>
<p>A new badge is visible to you alone. A badge becomes public only when you put it in a group and
share that group at a link; removing the link ends it at once.</p>
<h2>Your address stays out of public view</h2>
<p>Public pages never show your e-mail address, in any form or spelling, even where an issuer wrote it
into a badge's name or description (it is shown as [hidden] there). They carry no identifier of you at all:
no hash of your address, nor the badge as the issuer made it or a link to the issuer's copy (those name
you, in clear or as a hash that anyone could test guesses against), so nobody can tell that two links are
yours. Anyone checking a badge can ask whether it was awarded to an address they already know, and get a
yes or no, a limited number of times.</p>
<h2>Issuers and apps act only with your consent</h2>
<p>An issuer platform can add badges to your backpack, and an app can show or manage your badges, only
after you allow it on this backpack's own consent page, for the things that page lists. You can
disconnect any of them at any time; their access ends at once.</p>
<h2>Correcting and taking your information</h2>
<p>You can change your display name and addresses whenever you like, and download everything the
backpack holds about you as one file, each badge with its image. That file alone is enough to move:
another backpack of this kind loads it, checks every badge again with its issuer, and rebuilds your
groups; share links are not carried over, so nothing becomes public that you did not share there.</p>
<h2>Deleting</h2>
<p>You can delete one badge, all your badges, or your whole backpack. Deletion is immediate and cannot
be undone: the rows, images, sessions, tokens, consents and share links go, and nothing left ties any
data to you. Reports you made about an issuer platform stay with the operator without your name, the
badge's name or what you wrote. Within moments, the deleted bytes are also erased from the database's
own files, not only hidden from its answers.</p>
<p>What deletion cannot reach: copies made before it. Backups of the database keep what they held until
the operator rotates them out; a PostgreSQL standby erases the bytes when it replays the same rewrite,
but other copies (logical replicas, dumps) keep them until they are themselves deleted or rewritten;
PostgreSQL's write-ahead log keeps its records of past changes until it recycles its segments (usually
within a few checkpoints); and the disk under the database may keep freed blocks until they are
reused.</p>
<h2>How long we keep things</h2>
<ul>
<li>Sign-in links work once, for ${facts.codeTtlMinutes} minutes, and are purged soon after.</li>
<li>Sessions end ${days(facts.sessionTtlHours)} after sign-in, or after ${days(facts.sessionIdleHours)} unused, and are then purged.</li>
<li>Expired tokens and finished consent requests are purged; your badges stay until you delete them.</li>
<li>Logs never contain your e-mail address or your secrets, and entries with network addresses are kept only as long as running the service needs.</li>
</ul>
<h2>Telling you</h2>
<p>If this policy changes, if your data is involved in a breach, or if the operator acts on your account
(for example on a legal request), you are told, and the record appears in your download.</p>
<h2>Statistics</h2>
<p>Only de-identified statistics are published: counts over many backpacks, so that no one can be
singled out. Only backpacks with a verified address holding valid badges from at least two different
issuers are counted; a badge class, an issuer or a month is shown only when at least 10 such backpacks
hold it; an issuer's count is the sum of its classes shown, so nothing hidden can be worked out by
subtraction; and every count is rounded down to a multiple of 10, so no count moves by one when one
person joins.</p>
<p class="muted"><a href="/terms">Terms</a> · <a href="/sign-in">Sign in</a></p>`,
  );
}

export function termsPage(facts: PolicyFacts): string {
  return layout(
    'Terms',
    `<h1>Terms</h1>
<p>These terms apply to your use of this backpack (${escapeHtml(facts.serviceUrl)}).</p>
<ul>
<li>You must be ${MINIMUM_AGE} or older to have a backpack.</li>
<li>Add only badges that were awarded to you, and sign in only with addresses that are yours.</li>
<li>What you share at a public link is yours to share; remove the link when you no longer want it public.</li>
<li>Do not use the backpack to harm others, to overload it, or to reach what is not yours.</li>
<li>The backpack is offered as it is. Keep your own copies of badges that matter to you; you can download everything at any time.</li>
<li>You can delete your backpack whenever you like. The operator may delete an account only for a stated reason, and the action is recorded.</li>
<li>If these terms change, you are told before the change applies.</li>
</ul>
<p>How your information is handled is in the <a href="/privacy">privacy policy</a>.</p>`,
  );
}
