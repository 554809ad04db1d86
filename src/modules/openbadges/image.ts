import { OpenBadgesInputError } from './errors.ts';
import { assertPng, isPng } from './png.ts';
import { sanitizeSvg } from './svg.ts';
import type { Fetcher, Verdict } from './types.ts';

export type BadgeImage = NonNullable<Verdict['image']>;

export function sniffImage(bytes: Uint8Array): 'image/png' | 'image/svg+xml' | null {
  if (isPng(bytes)) return 'image/png';
  // SVG has no magic number: look past a BOM, whitespace, XML declaration and comments for <svg.
  const head = Buffer.from(bytes.subarray(0, 4096))
    .toString('utf8')
    .replace(/^\uFEFF/, '');
  if (/^\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*|<!DOCTYPE[^>]*>\s*)*<svg[\s>]/i.test(head))
    return 'image/svg+xml';
  return null;
}

/** Validates image bytes and returns what may be stored and served: PNG as is, SVG sanitized. */
export function acceptImage(bytes: Uint8Array): BadgeImage {
  const type = sniffImage(bytes);
  if (type === 'image/png') {
    assertPng(bytes);
    return { contentType: type, bytes };
  }
  if (type === 'image/svg+xml') {
    const clean = sanitizeSvg(Buffer.from(bytes).toString('utf8'));
    return { contentType: type, bytes: new Uint8Array(Buffer.from(clean, 'utf8')) };
  }
  throw new OpenBadgesInputError('unsupported', 'image_unsupported', 'image is neither PNG nor SVG');
}

function decodeDataUri(uri: string): Uint8Array {
  const m = /^data:([^,]*?),(.*)$/s.exec(uri);
  if (!m) throw new OpenBadgesInputError('malformed', 'image_bad_data_uri', 'unreadable data: URI');
  const meta = m[1] ?? '';
  const data = m[2] ?? '';
  return new Uint8Array(
    meta.endsWith(';base64') ? Buffer.from(data, 'base64') : Buffer.from(decodeURIComponent(data), 'utf8'),
  );
}

/** Fetches or decodes an image reference (URL or data: URI); null with a reason when it cannot be had. */
export async function loadImage(
  ref: string,
  fetcher: Fetcher,
): Promise<{ image: BadgeImage; reason?: undefined } | { image: null; reason: string }> {
  try {
    if (ref.startsWith('data:')) return { image: acceptImage(decodeDataUri(ref)) };
    const res = await fetcher(ref, {
      accept: ['image/png', 'image/svg+xml', 'image/*', 'application/octet-stream'],
    });
    if (res.status < 200 || res.status >= 300)
      return { image: null, reason: `image fetch answered ${res.status}` };
    return { image: acceptImage(res.body) };
  } catch (err) {
    return { image: null, reason: (err as Error).message };
  }
}
