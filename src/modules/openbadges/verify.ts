import { CheckList, UNCHECKED_CODES } from './checks.ts';
import { fetchJson } from './common.ts';
import { OpenBadgesInputError } from './errors.ts';
import { type BadgeImage, loadImage, sniffImage } from './image.ts';
import { fetchBudget } from './limits.ts';
import { type Ob2Outcome, verifyLegacy } from './ob2.ts';
import { isVerifiableCredential, verifyCredential, verifyVcJwt } from './ob3.ts';
import { unbakePng } from './png.ts';
import { sanitizeSvg, unbakeSvg } from './svg.ts';
import type { BadgeInput, Verdict, VerifyContext } from './types.ts';
import { decodeJwsPart, isCompactJws, isRecord, MAX_TEXT_INPUT, parseJsonText, str } from './util.ts';

const MAX_IMAGE_BYTES = 10 * 1024 * 1024;

function emptyOutcome(): Ob2Outcome {
  return { version: null, assertionId: null, recipient: null, badge: null, original: null, imageRefs: [] };
}

/** What a baked image or a text payload stands for: a URL, a compact JWS or JSON. */
function classifyText(text: string): BadgeInput {
  const t = text.trim();
  if (t.startsWith('{')) return { kind: 'json', json: parseJsonText(t) };
  if (isCompactJws(t)) return { kind: 'jws', jws: t };
  if (/^https?:\/\//i.test(t)) return { kind: 'url', url: t };
  throw new OpenBadgesInputError(
    'malformed',
    'payload_unreadable',
    'the baked payload is neither URL, JWS nor JSON',
  );
}

function readBaked(bytes: Uint8Array): { image: BadgeImage; payload: BadgeInput } {
  if (bytes.length > MAX_IMAGE_BYTES) {
    throw new OpenBadgesInputError(
      'too_large',
      'image_too_large',
      `image larger than ${MAX_IMAGE_BYTES} bytes`,
    );
  }
  const type = sniffImage(bytes);
  if (type === 'image/png') {
    const baked = unbakePng(bytes);
    if (!baked) throw new OpenBadgesInputError('unsupported', 'image_not_baked', 'the PNG carries no badge');
    return { image: { contentType: type, bytes }, payload: classifyText(baked.text) };
  }
  if (type === 'image/svg+xml') {
    const svg = Buffer.from(bytes).toString('utf8');
    const baked = unbakeSvg(svg);
    if (!baked) throw new OpenBadgesInputError('unsupported', 'image_not_baked', 'the SVG carries no badge');
    const clean = new Uint8Array(Buffer.from(sanitizeSvg(svg), 'utf8'));
    return { image: { contentType: type, bytes: clean }, payload: classifyText(baked.text) };
  }
  throw new OpenBadgesInputError('unsupported', 'image_unsupported', 'the image is neither PNG nor SVG');
}

async function dispatch(input: BadgeInput, ctx: VerifyContext, checks: CheckList): Promise<Ob2Outcome> {
  switch (input.kind) {
    case 'url': {
      const url = input.url.trim();
      const res = await fetchJson(ctx.fetcher, url);
      if (!res.ok) {
        if (res.status === 410) checks.fail('revoked', `${url} answered 410 Gone`);
        else checks.fail('hosted_fetched', res.reason);
        return { ...emptyOutcome(), assertionId: res.status === 410 ? url : null };
      }
      if (!isRecord(res.doc)) {
        checks.fail('input_parsed', `${url} does not serve a JSON object`);
        return emptyOutcome();
      }
      checks.pass('input_parsed');
      if (isVerifiableCredential(res.doc)) {
        return verifyCredential(res.doc, { format: 'json', text: res.text }, ctx, checks);
      }
      const declared = str(res.doc.id);
      const fetchedFrom = declared && (declared === url || declared === res.url) ? declared : url;
      return verifyLegacy(res.doc, { format: 'json', text: res.text, fetchedFrom, jws: null }, ctx, checks);
    }
    case 'jws': {
      const jws = input.jws.trim();
      if (jws.length > MAX_TEXT_INPUT) {
        throw new OpenBadgesInputError('too_large', 'input_too_large', 'token larger than the limit');
      }
      if (!isCompactJws(jws))
        throw new OpenBadgesInputError('malformed', 'jws_malformed', 'not a compact JWS');
      const payload = decodeJwsPart(jws.split('.')[1]);
      if (!isRecord(payload))
        throw new OpenBadgesInputError('malformed', 'jws_malformed', 'JWS payload is not JSON');
      checks.pass('input_parsed');
      if (isRecord(payload.vc) || isVerifiableCredential(payload))
        return verifyVcJwt(jws, payload, ctx, checks);
      return verifyLegacy(payload, { format: 'jws', text: jws, fetchedFrom: null, jws }, ctx, checks);
    }
    case 'json': {
      const doc = typeof input.json === 'string' ? parseJsonText(input.json) : input.json;
      if (!isRecord(doc))
        throw new OpenBadgesInputError('malformed', 'json_malformed', 'expected a JSON object');
      const text = JSON.stringify(doc);
      if (text.length > MAX_TEXT_INPUT) {
        throw new OpenBadgesInputError('too_large', 'input_too_large', 'document larger than the limit');
      }
      checks.pass('input_parsed');
      if (isVerifiableCredential(doc)) return verifyCredential(doc, { format: 'json', text }, ctx, checks);
      return verifyLegacy(doc, { format: 'json', text, fetchedFrom: null, jws: null }, ctx, checks);
    }
    case 'image': {
      const { payload } = readBaked(input.bytes);
      return dispatch(payload, ctx, checks);
    }
  }
}

function statusOf(checks: CheckList): Pick<Verdict, 'status' | 'statusReason'> {
  const failedChecks = checks.items.filter((c) => c.status === 'failed');
  const failed = new Set(failedChecks.map((c) => c.code));
  if (failed.has('revoked')) return { status: 'revoked', statusReason: null };
  const definite = [...failed].filter((code) => !UNCHECKED_CODES.has(code));
  if (failed.size === 0) return { status: 'valid', statusReason: null };
  if (definite.length === 0) {
    const reason = failedChecks.find((c) => UNCHECKED_CODES.has(c.code));
    return { status: 'unverified', statusReason: reason?.code ?? null };
  }
  if (definite.length === 1 && definite[0] === 'expired') return { status: 'expired', statusReason: null };
  return { status: 'invalid', statusReason: null };
}

/**
 * Verifies a badge of any version and form. Unreadable input (oversized, not an image, broken file)
 * throws OpenBadgesInputError; everything else yields a verdict whose checks say what passed and failed.
 */
export async function verifyBadge(input: BadgeInput, context: VerifyContext): Promise<Verdict> {
  const budget = fetchBudget(context);
  const ctx: VerifyContext = { ...context, fetcher: budget.fetcher };
  try {
    const checks = new CheckList();
    let image: BadgeImage | null = null;
    let payload = input;
    if (input.kind === 'image') {
      const baked = readBaked(input.bytes);
      image = baked.image;
      payload = baked.payload;
    }
    const outcome = await dispatch(payload, ctx, checks);
    if (image) {
      checks.pass('image_valid', `baked ${image.contentType} image`);
    } else if (outcome.imageRefs.length > 0 && outcome.version !== null) {
      const reasons: string[] = [];
      for (const ref of outcome.imageRefs) {
        const loaded = await loadImage(ref, ctx.fetcher);
        if (loaded.image) {
          image = loaded.image;
          break;
        }
        reasons.push(loaded.reason);
      }
      if (image) checks.pass('image_valid', `${image.contentType} image`);
      else checks.warn('image_unavailable', reasons.join('; '));
    }
    // A verification cut short checked less than it should have: it does not pass.
    const exceeded = budget.exceeded();
    if (exceeded && !checks.has('limits_exceeded', 'failed')) checks.fail('limits_exceeded', exceeded);
    const { imageRefs: _unused, ...rest } = outcome;
    return { ...rest, ok: !checks.failed(), ...statusOf(checks), image, checks: checks.items };
  } finally {
    budget.end();
  }
}
