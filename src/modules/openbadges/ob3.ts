import type { CheckList } from './checks.ts';
import type { Ob2Outcome } from './ob2.ts';
import type { VerifyContext } from './types.ts';
import { asArray, type JsonRecord, strings } from './util.ts';

const VC_CONTEXTS = new Set([
  'https://www.w3.org/2018/credentials/v1',
  'https://www.w3.org/ns/credentials/v2',
]);

export function isVerifiableCredential(doc: JsonRecord): boolean {
  return (
    asArray(doc['@context']).some((c) => typeof c === 'string' && VC_CONTEXTS.has(c)) ||
    strings(doc.type).includes('VerifiableCredential')
  );
}

export async function verifyCredential(
  _doc: JsonRecord,
  _source: { format: 'json' | 'vc-jwt'; text: string },
  _ctx: VerifyContext,
  checks: CheckList,
): Promise<Ob2Outcome> {
  checks.fail('proof_unsupported', 'OB 3.0 is not verified yet');
  return { version: '3.0', assertionId: null, recipient: null, badge: null, original: null, imageRefs: [] };
}

export async function verifyVcJwt(
  jwt: string,
  payload: JsonRecord,
  ctx: VerifyContext,
  checks: CheckList,
): Promise<Ob2Outcome> {
  return verifyCredential(payload, { format: 'vc-jwt', text: jwt }, ctx, checks);
}
