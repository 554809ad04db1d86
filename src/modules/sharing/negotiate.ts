// Content negotiation on the Accept header (RFC 9110 section 12.5.1): the offer with the
// highest quality wins, the more specific media range deciding an offer's quality; ties go
// to the order of the offers.

interface Range {
  type: string;
  subtype: string;
  q: number;
}

function parseAccept(header: string): Range[] {
  const ranges: Range[] = [];
  for (const part of header.split(',')) {
    const [media = '', ...params] = part.trim().split(';');
    const [type, subtype] = media.trim().toLowerCase().split('/');
    if (!type || !subtype) continue;
    let q = 1;
    for (const p of params) {
      const [name, value] = p.trim().split('=');
      if (name?.trim().toLowerCase() === 'q') {
        const n = Number(value);
        q = Number.isFinite(n) ? Math.min(Math.max(n, 0), 1) : 0;
      }
    }
    ranges.push({ type, subtype, q });
  }
  return ranges;
}

function quality(ranges: Range[], offer: string): number {
  const [type, subtype] = offer.split('/');
  let best = -1;
  let specificity = -1;
  for (const r of ranges) {
    const matches =
      (r.type === '*' && r.subtype === '*') ||
      (r.type === type && (r.subtype === '*' || r.subtype === subtype));
    if (!matches) continue;
    const s = r.type === '*' ? 0 : r.subtype === '*' ? 1 : 2;
    if (s > specificity) {
      specificity = s;
      best = r.q;
    }
  }
  return Math.max(best, 0);
}

/** The offer to answer with, or null when the client accepts none of them. */
export function negotiate<T extends string>(accept: string | undefined, offers: readonly T[]): T | null {
  if (accept === undefined || accept.trim() === '') return offers[0] ?? null;
  const ranges = parseAccept(accept);
  let chosen: T | null = null;
  let bestQ = 0;
  for (const offer of offers) {
    const q = quality(ranges, offer);
    if (q > bestQ) {
      bestQ = q;
      chosen = offer;
    }
  }
  return chosen;
}
