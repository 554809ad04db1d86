// The real-world corpus (test/fixtures/real-world): credentials published by other projects, each
// beside a provenance file naming its repository, path, commit, license and the verdict its source
// states, and the documents their issuers publish (DID documents, status lists, keys, profiles),
// served here from local copies in place of the issuers' sites.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BadgeInput, type Check, FetchError, type Fetcher } from '../../src/modules/openbadges/index.ts';

export const CORPUS_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../fixtures/real-world');

/** Verdicts as sources state them; `unverified`: the credential's status could not be established. */
export type SourceVerdict = 'valid' | 'invalid' | 'expired' | 'revoked' | 'unverified';

export interface Provenance {
  credential: string;
  input: 'json' | 'jws' | 'image';
  source: { repository: string; path: string; commit: string; license: string; licenseFile: string };
  verdict: SourceVerdict;
  why: string;
  statedIn: string;
  traits: { spec: string; vcdm?: string; proofs: string[]; key: string };
  /** The address the credential is awarded to, when it names one an earner can hold. */
  recipient?: string;
}

export interface RealWorldCase extends Provenance {
  /** Path of the credential under the corpus root: the case's stable name. */
  id: string;
  file: string;
}

interface Served {
  url: string;
  file: string;
  contentType: string;
}

function walk(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, out);
    else if (entry.name.endsWith('.provenance.json')) out.push(path);
  }
  return out;
}

export function loadCorpus(): RealWorldCase[] {
  return walk(CORPUS_ROOT)
    .sort()
    .map((path) => {
      const p = JSON.parse(readFileSync(path, 'utf8')) as Provenance;
      const file = join(dirname(path), p.credential);
      return { ...p, id: relative(CORPUS_ROOT, file), file };
    });
}

function servedDocuments(): Map<string, Served> {
  const list = JSON.parse(readFileSync(join(CORPUS_ROOT, 'served.json'), 'utf8')) as Served[];
  return new Map(list.map((s) => [s.url, s]));
}

/**
 * The issuers' sites, offline: every URL the corpus publishes answers with its local copy; any
 * other path on one of those hosts answers 404 (as the real site would); other hosts are unreachable.
 */
export function corpusFetcher(onFetch?: (url: string) => void): Fetcher {
  const served = servedDocuments();
  const hosts = new Set([...served.keys()].map((u) => new URL(u).host));
  return async (url) => {
    onFetch?.(url);
    const hit = served.get(url);
    if (hit) {
      return {
        status: 200,
        url,
        contentType: hit.contentType,
        body: new Uint8Array(readFileSync(join(CORPUS_ROOT, hit.file))),
        headers: { 'content-type': hit.contentType },
      };
    }
    let host: string;
    try {
      host = new URL(url).host;
    } catch {
      throw new FetchError('fetch_bad_url', 'not a URL');
    }
    if (hosts.has(host)) {
      return {
        status: 404,
        url,
        contentType: 'text/plain',
        body: new TextEncoder().encode('not found'),
        headers: { 'content-type': 'text/plain' },
      };
    }
    throw new FetchError('fetch_failed', `${host} is not reachable from the corpus`);
  };
}

export function engineInput(c: RealWorldCase): BadgeInput {
  const bytes = readFileSync(c.file);
  if (c.input === 'image') return { kind: 'image', bytes: new Uint8Array(bytes) };
  if (c.input === 'jws') return { kind: 'jws', jws: bytes.toString('utf8').trim() };
  return { kind: 'json', json: JSON.parse(bytes.toString('utf8')) };
}

/**
 * A verdict in the sources' vocabulary, from the checks: recipient checks are the backpack's own
 * concern (no source knows the earner), so they do not decide it.
 */
export function verdictFromChecks(status: string, checks: Check[]): SourceVerdict {
  if (status === 'unverified') return 'unverified';
  const failed = new Set(
    checks.filter((c) => c.status === 'failed' && !c.code.startsWith('recipient_')).map((c) => c.code),
  );
  if (failed.has('revoked')) return 'revoked';
  if (failed.size === 0) return 'valid';
  if (failed.size === 1 && failed.has('expired')) return 'expired';
  return 'invalid';
}

/** The clock the corpus is judged at: after every credential's issue, before the far expiries. */
export const CORPUS_NOW = new Date('2026-06-01T00:00:00Z');
