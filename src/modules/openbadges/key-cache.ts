import type { CachedKey, KeyCache } from './types.ts';

/** In-memory LRU of fetched issuer keys, so a verification with a known key costs no fetch. */
export function createKeyCache(opts: { ttlMs: number; max: number; now?: () => number }): KeyCache {
  const now = opts.now ?? Date.now;
  const entries = new Map<string, { value: CachedKey; expires: number }>();
  return {
    get(id) {
      const e = entries.get(id);
      if (!e) return undefined;
      if (e.expires <= now()) {
        entries.delete(id);
        return undefined;
      }
      // Re-insert to mark as most recently used (Map keeps insertion order).
      entries.delete(id);
      entries.set(id, e);
      return e.value;
    },
    set(id, value) {
      entries.delete(id);
      entries.set(id, { value, expires: now() + opts.ttlMs });
      while (entries.size > opts.max) {
        const oldest = entries.keys().next();
        if (oldest.done) break;
        entries.delete(oldest.value);
      }
    },
  };
}
