import { randomUUID } from 'node:crypto';
import { Problem } from '../../http/problems.ts';
import type { BadgePublicDetail } from '../badges/index.ts';
import { addEddsaRdfc2022Proof } from '../openbadges/index.ts';
import type { HolderKeys } from './holder-keys.ts';

// Verifiable Presentations of the earner's OB 3.0 credentials, signed by a holder key: as a
// Data Integrity document (eddsa-rdfc-2022, proof purpose authentication) or as a VC-JWT. A
// verifier's challenge and domain are bound into the proof (`nonce` and `aud` in a JWT), so a
// presentation made for one verifier and one request cannot be replayed to another.

const VC_V1 = 'https://www.w3.org/2018/credentials/v1';
const VC_V2 = 'https://www.w3.org/ns/credentials/v2';
// VCDM 1.1 does not define DataIntegrityProof; this context does.
const DATA_INTEGRITY_V2 = 'https://w3id.org/security/data-integrity/v2';

export type PresentationFormat = 'ldp_vp' | 'jwt_vp';

export interface PresentationRequest {
  badgeIds: string[];
  format: PresentationFormat;
  challenge?: string;
  domain?: string;
  holderDid?: string;
}

export interface PresentationResult {
  format: PresentationFormat;
  holder: string;
  verificationMethod: string;
  /** ldp_vp: the signed presentation. */
  presentation?: Record<string, unknown>;
  /** jwt_vp: the compact JWT. */
  jwt?: string;
  /** The badges whose credentials it holds, in order. */
  badgeIds: string[];
  /** The badges it leaves out: not OB 3.0 credentials, or not expressible in this form. */
  omittedBadgeIds: string[];
}

interface Credential {
  id: string;
  /** A JSON-LD credential, or a VC-JWT. */
  json?: Record<string, unknown>;
  jwt?: string;
  base?: string;
}

function credentialOf(badge: BadgePublicDetail): Credential | null {
  if (badge.originalFormat === 'vc-jwt') return { id: badge.id, jwt: badge.originalText };
  if (badge.originalFormat !== 'json') return null;
  let doc: unknown;
  try {
    doc = JSON.parse(badge.originalText);
  } catch {
    return null;
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return null;
  const json = doc as Record<string, unknown>;
  const contexts = [json['@context']].flat();
  const base = contexts[0];
  if (base !== VC_V1 && base !== VC_V2) return null;
  return { id: badge.id, json, base };
}

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

export class Presentations {
  constructor(
    private readonly keys: HolderKeys,
    private readonly details: (earnerId: string, ids: string[]) => Promise<Map<string, BadgePublicDetail>>,
    private readonly now: () => Date,
  ) {}

  /** Which of `ids` are the earner's badges that a presentation may show. */
  async owned(earnerId: string, ids: string[]): Promise<Set<string>> {
    return new Set((await this.details(earnerId, ids)).keys());
  }

  async present(earnerId: string, request: PresentationRequest): Promise<PresentationResult> {
    const found = await this.details(earnerId, request.badgeIds);
    const credentials: Credential[] = [];
    for (const id of request.badgeIds) {
      const badge = found.get(id);
      const credential = badge ? credentialOf(badge) : null;
      if (credential) credentials.push(credential);
    }
    // A document under VCDM 2.0 unless every credential is a 1.1 one: contexts of both versions
    // protect the same terms differently and cannot be nested. A VC-JWT rides along enveloped,
    // which only 2.0 defines. A JWT presentation carries both kinds as they are.
    const json = credentials.filter((c) => c.json);
    const v1 = json.length > 0 && json.every((c) => c.base === VC_V1) && credentials.every((c) => c.json);
    const included =
      request.format === 'jwt_vp'
        ? credentials
        : credentials.filter((c) => (v1 ? c.base === VC_V1 : c.jwt || c.base === VC_V2));
    if (included.length === 0) {
      throw new Problem(
        'presentation_unavailable',
        'None of these badges is an OB 3.0 credential this form of presentation can hold.',
      );
    }
    const signer = await this.keys.signer(earnerId, request.holderDid);
    const now = this.now();
    const id = `urn:uuid:${randomUUID()}`;

    if (request.format === 'jwt_vp') {
      const vp = {
        '@context': [VC_V1],
        type: ['VerifiablePresentation'],
        holder: signer.did,
        verifiableCredential: credentials.map((c) => c.jwt ?? c.json),
      };
      const payload = {
        iss: signer.did,
        jti: id,
        iat: seconds(now),
        nbf: seconds(now),
        ...(request.domain === undefined ? {} : { aud: request.domain }),
        ...(request.challenge === undefined ? {} : { nonce: request.challenge }),
        vp,
      };
      const input = `${b64({ alg: 'EdDSA', typ: 'JWT', kid: signer.verificationMethod })}.${b64(payload)}`;
      const signature = await signer.sign(Buffer.from(input, 'ascii'));
      return this.result(request, signer, { jwt: `${input}.${signature.toString('base64url')}` }, included);
    }

    const doc = {
      '@context': v1 ? [VC_V1, DATA_INTEGRITY_V2] : [VC_V2],
      id,
      type: ['VerifiablePresentation'],
      holder: signer.did,
      verifiableCredential: included.map((c) =>
        c.jwt
          ? {
              '@context': VC_V2,
              id: `data:application/vc+jwt,${c.jwt}`,
              type: 'EnvelopedVerifiableCredential',
            }
          : c.json,
      ),
    };
    let presentation: Record<string, unknown>;
    try {
      presentation = await addEddsaRdfc2022Proof(
        doc,
        {
          verificationMethod: signer.verificationMethod,
          proofPurpose: 'authentication',
          created: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
          ...(request.challenge === undefined ? {} : { challenge: request.challenge }),
          ...(request.domain === undefined ? {} : { domain: request.domain }),
        },
        signer.sign,
      );
    } catch (err) {
      if (err instanceof Problem) throw err;
      throw new Problem('presentation_unavailable', 'These badges cannot be put in a signed presentation.');
    }
    return this.result(request, signer, { presentation }, included);
  }

  private result(
    request: PresentationRequest,
    signer: { did: string; verificationMethod: string },
    body: { presentation?: Record<string, unknown>; jwt?: string },
    included: Credential[],
  ): PresentationResult {
    const kept = new Set(included.map((c) => c.id));
    return {
      format: request.format,
      holder: signer.did,
      verificationMethod: signer.verificationMethod,
      ...body,
      badgeIds: request.badgeIds.filter((id) => kept.has(id)),
      omittedBadgeIds: request.badgeIds.filter((id) => !kept.has(id)),
    };
  }
}
