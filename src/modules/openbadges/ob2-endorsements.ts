import { compactVerify } from 'jose';
import { CheckList } from './checks.ts';
import { checkDates, fetchJson } from './common.ts';
import { FetchError } from './errors.ts';
import { DEFAULT_VERIFY_LIMITS } from './limits.ts';
import { loadNode, originCheck, refusedJwsHeader, signedKey, validateNode } from './ob2-nodes.ts';
import type { Fetcher, NormalizedEndorsement, VerifyContext } from './types.ts';
import {
  asArray,
  decodeJwsPart,
  isCompactJws,
  isHttpUrl,
  isRecord,
  type JsonRecord,
  str,
  strings,
} from './util.ts';

const MAX_ENDORSEMENTS = 20;

/**
 * Endorsements share the verification's fetch budget, and running it out would fail the badge
 * itself; they get a third of its fetches and time, stopped here before the shared budget trips.
 */
function endorsementFetcher(ctx: VerifyContext): Fetcher {
  const limits = { ...DEFAULT_VERIFY_LIMITS, ...ctx.limits };
  const maxFetches = Math.floor(limits.maxFetches / 3);
  const deadline = Date.now() + Math.floor(limits.timeBudgetMs / 3);
  let count = 0;
  return (url, opts) => {
    count += 1;
    const left = deadline - Date.now();
    if (count > maxFetches || left <= 0) {
      return Promise.reject(
        new FetchError('fetch_limit_exceeded', 'endorsements need more fetches or time than a badge allows'),
      );
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new FetchError('fetch_limit_exceeded', 'endorsements took longer than a badge allows')),
        left,
      );
      timer.unref();
    });
    return Promise.race([ctx.fetcher(url, opts), late]).finally(() => clearTimeout(timer));
  };
}

/** The Endorsement documents an Assertion, its BadgeClass and its Issuer carry, in that order. */
function endorsementRefs(nodes: (JsonRecord | null)[]): unknown[] {
  return nodes.flatMap((n) => (n ? asArray(n.endorsement) : []));
}

interface Loaded {
  doc: JsonRecord | null;
  jws: string | null;
}

/** An endorsement given inline, by URL or as a compact JWS, read into its document. */
async function loadEndorsement(ref: unknown, ctx: VerifyContext, own: CheckList): Promise<Loaded> {
  if (isRecord(ref)) return { doc: ref, jws: null };
  const text = str(ref);
  if (text && isCompactJws(text)) {
    const payload = decodeJwsPart(text.split('.')[1]);
    if (!isRecord(payload)) own.fail('structure_valid', 'the endorsement JWS carries no JSON object');
    return { doc: isRecord(payload) ? payload : null, jws: text };
  }
  if (text && isHttpUrl(text)) {
    const res = await fetchJson(ctx.fetcher, text);
    if (!res.ok || !isRecord(res.doc)) {
      own.fail('hosted_fetched', res.ok ? `${text} is not a JSON object` : res.reason);
      return { doc: null, jws: null };
    }
    if (str(res.doc.id) !== text) {
      own.fail('hosted_fetched', `${text} serves an endorsement with another id`);
      return { doc: null, jws: null };
    }
    own.pass('hosted_fetched', `fetched from its id ${text}`);
    return { doc: res.doc, jws: null };
  }
  own.fail('structure_valid', 'an endorsement must be an Endorsement, its URL or its JWS');
  return { doc: null, jws: null };
}

/**
 * One OB 2.0 Endorsement judged as an assertion is: hosted (served at its id, on its endorser's
 * host) or signed (a JWS by a key the endorser's profile lists and the key names as owner).
 */
async function verifyEndorsement(ref: unknown, ctx: VerifyContext): Promise<NormalizedEndorsement> {
  const own = new CheckList();
  let { doc, jws } = await loadEndorsement(ref, ctx, own);
  let endorser: JsonRecord | null = null;
  if (doc && !strings(doc.type).includes('Endorsement')) {
    own.fail('type_valid', `type ${strings(doc.type).join(', ') || '(none)'} is not an Endorsement`);
  } else if (doc && !isRecord(doc.claim)) {
    own.fail('structure_valid', 'the endorsement has no claim');
  } else if (doc) {
    const verification = isRecord(doc.verification) ? doc.verification : {};
    const type = str(verification.type);
    const signed = type === 'signed' || type === 'SignedBadge';
    const id = str(doc.id);
    if (signed && !jws) {
      own.fail('signature_valid', 'a signed endorsement must be given as its JWS');
    } else if (!signed && jws) {
      own.fail('signature_valid', 'the JWS carries an endorsement whose verification type is not signed');
    } else if (!signed && !own.has('hosted_fetched', 'passed')) {
      // Given inline: only the copy served at its id is the endorser's word.
      if (!id || !isHttpUrl(id)) {
        own.fail('hosted_fetched', 'a hosted endorsement needs an HTTP(S) id to be fetched from');
      } else {
        const served = await loadEndorsement(id, ctx, own);
        doc = served.doc;
      }
    }
    if (doc && !own.failed()) {
      endorser = await loadNode(doc.issuer, ctx, own, 'issuer_fetched', 'Issuer');
      if (endorser && !validateNode(endorser, own, 'issuer_fetched')) endorser = null;
    }
    if (doc && endorser && !own.failed()) {
      if (signed && jws) {
        const refused = refusedJwsHeader(jws);
        if (refused) own.fail('signature_algorithm_refused', refused);
        else {
          const key = await signedKey(str(verification.creator), endorser, ctx, own);
          if (key) {
            try {
              await compactVerify(jws, key, { algorithms: ['RS256'] });
              own.pass('signature_valid', 'RS256 signature verifies with the endorser key');
            } catch {
              own.fail('signature_valid', 'the signature does not verify');
            }
          }
        }
      } else if (id) {
        originCheck(id, endorser, null, own);
      }
      checkDates(own, ctx, doc.issuedOn, doc.expires);
    }
  }
  const claim = doc && isRecord(doc.claim) ? doc.claim : {};
  const failed = own.items.filter((c) => c.status === 'failed');
  const verdict =
    failed.length === 0 ? 'valid' : failed.every((c) => c.code === 'expired') ? 'expired' : 'invalid';
  return {
    id: doc ? str(doc.id) : isRecord(ref) ? str(ref.id) : str(ref),
    endorser: {
      id:
        str(endorser?.id) ??
        (doc ? (isRecord(doc.issuer) ? str(doc.issuer.id) : str(doc.issuer)) : null) ??
        '',
      name: str(endorser?.name),
    },
    claim: str(claim.endorsementComment),
    endorsedId: str(claim.id),
    issuedOn: doc ? str(doc.issuedOn) : null,
    verdict,
    problems: failed.map((c) => `${c.code}: ${c.message}`),
  };
}

/**
 * Every endorsement of the assertion, its BadgeClass and its Issuer verified on its own, with one
 * check summing them up; none of them changes the badge's own status.
 */
export async function ob2EndorsementChecks(
  nodes: (JsonRecord | null)[],
  ctx: VerifyContext,
  checks: CheckList,
): Promise<NormalizedEndorsement[]> {
  const found = endorsementRefs(nodes);
  if (found.length === 0) return [];
  const ectx: VerifyContext = { ...ctx, fetcher: endorsementFetcher(ctx) };
  const judged: NormalizedEndorsement[] = [];
  for (const ref of found.slice(0, MAX_ENDORSEMENTS)) judged.push(await verifyEndorsement(ref, ectx));
  const good = judged.filter((e) => e.verdict === 'valid').length;
  const summary = `${good} of ${found.length} endorsement${found.length === 1 ? '' : 's'} verify${found.length > MAX_ENDORSEMENTS ? ` (only the first ${MAX_ENDORSEMENTS} were checked)` : ''}`;
  if (good === found.length) checks.pass('endorsements_verified', summary);
  else checks.warn('endorsements_verified', summary);
  return judged;
}
