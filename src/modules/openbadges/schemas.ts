import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

// The project's own schemas, written from the Open Badges 2.0 and 3.0 specifications' data model text.
// They check shape only; semantics (dates, hosting, keys) are separate checks.

type Schema = Record<string, unknown>;

const typeContains = (name: string): Schema => ({
  anyOf: [{ const: name }, { type: 'array', contains: { const: name } }],
});
const iri: Schema = { type: 'string', minLength: 1 };
const stringOrNode: Schema = { anyOf: [iri, { type: 'object', required: ['id'] }] };
const dateTime: Schema = { type: 'string', format: 'date-time' };
const ob2Date: Schema = {
  anyOf: [
    { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}' },
    { type: 'string', pattern: '^\\d+$' },
    { type: 'number' },
  ],
};
const arrayOrOne = (item: Schema): Schema => ({ anyOf: [item, { type: 'array', items: item }] });

export const ob2AssertionSchema: Schema = {
  type: 'object',
  required: ['id', 'type', 'recipient', 'badge', 'verification', 'issuedOn'],
  properties: {
    id: iri,
    type: typeContains('Assertion'),
    recipient: {
      type: 'object',
      required: ['identity', 'type'],
      properties: {
        identity: { type: 'string', minLength: 1 },
        type: { type: 'string' },
        hashed: { type: 'boolean' },
        salt: { type: ['string', 'null'] },
      },
    },
    badge: { anyOf: [iri, { type: 'object' }] },
    verification: {
      type: 'object',
      required: ['type'],
      properties: { type: { type: 'string' }, creator: iri },
    },
    issuedOn: ob2Date,
    expires: ob2Date,
    image: { anyOf: [iri, { type: 'object' }] },
    evidence: arrayOrOne({ anyOf: [iri, { type: 'object' }] }),
    narrative: { type: 'string' },
    revoked: { type: 'boolean' },
  },
};

export const ob2BadgeClassSchema: Schema = {
  type: 'object',
  required: ['id', 'type', 'name', 'description', 'criteria', 'issuer'],
  properties: {
    id: iri,
    type: typeContains('BadgeClass'),
    name: { type: 'string', minLength: 1 },
    description: { type: 'string' },
    image: { anyOf: [iri, { type: 'object', required: ['id'] }] },
    criteria: { anyOf: [iri, { type: 'object' }] },
    issuer: stringOrNode,
    tags: arrayOrOne({ type: 'string' }),
    alignment: arrayOrOne({ type: 'object' }),
  },
};

export const ob2ProfileSchema: Schema = {
  type: 'object',
  required: ['id', 'type', 'name'],
  properties: {
    id: iri,
    type: { anyOf: [typeContains('Issuer'), typeContains('Profile')] },
    name: { type: 'string', minLength: 1 },
    url: iri,
    email: { type: 'string' },
    publicKey: arrayOrOne(stringOrNode),
    revocationList: iri,
  },
};

export const ob2KeySchema: Schema = {
  type: 'object',
  required: ['owner', 'publicKeyPem'],
  properties: { id: iri, owner: iri, publicKeyPem: { type: 'string', minLength: 1 } },
};

const ob3Profile: Schema = {
  type: 'object',
  required: ['id', 'type'],
  properties: {
    id: iri,
    type: typeContains('Profile'),
    parentOrg: { $ref: '#/$defs/profile' },
    otherIdentifier: arrayOrOne({
      type: 'object',
      required: ['type'],
      properties: { type: typeContains('IdentifierEntry') },
    }),
  },
};

const ob3Achievement: Schema = {
  type: 'object',
  required: ['id', 'type', 'name', 'criteria'],
  properties: {
    id: iri,
    type: typeContains('Achievement'),
    name: { type: 'string' },
    description: { type: 'string' },
    criteria: { type: 'object' },
    creator: { $ref: '#/$defs/profile' },
    resultDescription: arrayOrOne({
      type: 'object',
      required: ['type'],
      properties: { type: typeContains('ResultDescription') },
    }),
    otherIdentifier: arrayOrOne({ type: 'object', properties: { type: typeContains('IdentifierEntry') } }),
    alignment: arrayOrOne({ type: 'object' }),
    tag: arrayOrOne({ type: 'string' }),
  },
};

const ob3Common = (credentialType: string, subjectType: string, subjectProps: Schema): Schema => ({
  type: 'object',
  required: ['@context', 'type', 'issuer', 'credentialSubject'],
  anyOf: [{ required: ['validFrom'] }, { required: ['issuanceDate'] }],
  $defs: { profile: ob3Profile },
  properties: {
    // Which contexts are needed is the context check's to say; here only their shape.
    '@context': arrayOrOne({ anyOf: [iri, { type: 'object' }] }),
    id: iri,
    type: {
      type: 'array',
      allOf: [{ contains: { const: 'VerifiableCredential' } }, { contains: { const: credentialType } }],
    },
    issuer: { anyOf: [iri, { $ref: '#/$defs/profile' }] },
    validFrom: dateTime,
    validUntil: dateTime,
    issuanceDate: dateTime,
    expirationDate: dateTime,
    name: { type: 'string' },
    credentialSubject: arrayOrOne({
      type: 'object',
      required: ['type'],
      properties: { type: typeContains(subjectType), ...subjectProps },
    }),
    evidence: arrayOrOne({
      type: 'object',
      required: ['type'],
      properties: { type: typeContains('Evidence') },
    }),
    credentialStatus: arrayOrOne({ type: 'object', required: ['type'] }),
    credentialSchema: arrayOrOne({ type: 'object' }),
    termsOfUse: arrayOrOne({ type: 'object' }),
    refreshService: arrayOrOne({ type: 'object' }),
    endorsement: arrayOrOne({ type: 'object' }),
    endorsementJwt: arrayOrOne({ type: 'string' }),
    proof: arrayOrOne({ type: 'object', required: ['type'] }),
  },
});

export const ob3AchievementCredentialSchema: Schema = {
  ...ob3Common('OpenBadgeCredential', 'AchievementSubject', {
    achievement: ob3Achievement,
    identifier: arrayOrOne({
      type: 'object',
      required: ['type', 'identityHash', 'identityType', 'hashed'],
      properties: {
        type: typeContains('IdentityObject'),
        identityHash: { type: 'string' },
        hashed: { type: 'boolean' },
      },
    }),
    result: arrayOrOne({ type: 'object', required: ['type'], properties: { type: typeContains('Result') } }),
    source: { $ref: '#/$defs/profile' },
  }),
  required: ['@context', 'type', 'issuer', 'credentialSubject'],
};

export const ob3EndorsementCredentialSchema: Schema = ob3Common(
  'EndorsementCredential',
  'EndorsementSubject',
  {
    id: iri,
  },
);

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const compiled = new Map<Schema, ValidateFunction>();

function describe(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .slice(0, 5)
    .map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`)
    .join('; ');
}

/** Null when valid, otherwise a short readable list of the first problems. */
export function validateSchema(schema: Schema, doc: unknown): string | null {
  let fn = compiled.get(schema);
  if (!fn) {
    fn = ajv.compile(schema);
    compiled.set(schema, fn);
  }
  return fn(doc) ? null : describe(fn.errors) || 'does not match the schema';
}
