// The scopes an issuer platform can ask for, as Badge Connect 2.1 and the Open Badges 3.0 API
// name them, and those a front end can ask for (the scopes of personal access tokens, so that
// one rule per operation in openapi.yaml covers both), with the plain words the consent page
// and the earner's list show.
import { TOKEN_SCOPES } from '../accounts/index.ts';

const V2P1 = 'https://purl.imsglobal.org/spec/ob/v2p1/scope/';
const V3P0 = 'https://purl.imsglobal.org/spec/ob/v3p0/scope/';

export const SCOPES = {
  assertionReadonly: `${V2P1}assertion.readonly`,
  assertionCreate: `${V2P1}assertion.create`,
  v2ProfileReadonly: `${V2P1}profile.readonly`,
  v2ProfileUpdate: `${V2P1}profile.update`,
  credentialReadonly: `${V3P0}credential.readonly`,
  credentialUpsert: `${V3P0}credential.upsert`,
  v3ProfileReadonly: `${V3P0}profile.readonly`,
  v3ProfileUpdate: `${V3P0}profile.update`,
} as const;

const DESCRIPTIONS: Record<string, string> = {
  [SCOPES.assertionReadonly]: 'See the badges in your backpack',
  [SCOPES.assertionCreate]: 'Add badges to your backpack',
  [SCOPES.v2ProfileReadonly]: 'See your name and e-mail address',
  [SCOPES.v2ProfileUpdate]: 'Change your display name',
  [SCOPES.credentialReadonly]: 'See the badges in your backpack',
  [SCOPES.credentialUpsert]: 'Add badges to your backpack, and replace ones it added',
  [SCOPES.v3ProfileReadonly]: 'See your name and e-mail address',
  [SCOPES.v3ProfileUpdate]: 'Change your display name',
  'badges:read': 'See the badges in your backpack',
  'badges:write': 'Add, accept and delete badges in your backpack',
  'groups:read': 'See your groups of badges',
  'groups:write': 'Create, change and delete your groups of badges',
  'shares:read': 'See your share links',
  'shares:write': 'Publish your badges at share links, and unpublish them',
  'profile:read': 'See your display name, handle, settings and e-mail addresses',
  'profile:write': 'Change your display name, handle and settings',
};

/** What a front end may ask for: exactly what a personal access token may carry. */
export const FRONT_END_SCOPES: readonly string[] = TOKEN_SCOPES;

export const SUPPORTED_SCOPES: readonly string[] = Object.values(SCOPES);

export function describeScope(scope: string): string {
  return DESCRIPTIONS[scope] ?? scope;
}

/** Splits a space-separated scope string into distinct scopes, in order. */
export function parseScope(scope: string | undefined | null): string[] {
  return [...new Set((scope ?? '').split(' ').filter((s) => s.length > 0))];
}
