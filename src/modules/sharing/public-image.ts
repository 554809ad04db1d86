// Images served on public pages lose everything but the picture: a baked badge carries its
// assertion (in a PNG text chunk or an SVG element), and an unhashed assertion names the
// recipient's address. PNG keeps only the chunks needed to draw it; SVG loses its Open Badges
// elements and metadata. What still mentions an address after that is not served at all.

import { addressMatcher, names } from './redact.ts';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Chunks that affect how the image looks; text, time, EXIF and private chunks are dropped. */
const PNG_KEEP = new Set([
  'IHDR',
  'PLTE',
  'IDAT',
  'IEND',
  'tRNS',
  'gAMA',
  'cHRM',
  'sRGB',
  'iCCP',
  'sBIT',
  'bKGD',
  'pHYs',
  'acTL',
  'fcTL',
  'fdAT',
]);

function stripPng(bytes: Uint8Array): Uint8Array | null {
  if (bytes.length < 8 || !PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kept: Uint8Array[] = [bytes.subarray(0, 8)];
  let pos = 8;
  while (pos + 12 <= bytes.length) {
    const length = view.getUint32(pos);
    const end = pos + 12 + length;
    if (end > bytes.length) return null;
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8));
    if (PNG_KEEP.has(type)) kept.push(bytes.subarray(pos, end));
    pos = end;
    if (type === 'IEND') return Buffer.concat(kept);
  }
  return null;
}

const SVG_BADGE_ELEMENT = /<([A-Za-z_][\w.-]*:)?(assertion|credential)\b[^>]*?(\/>|>[\s\S]*?<\/\1?\2\s*>)/g;
const SVG_METADATA = /<metadata\b[^>]*?(\/>|>[\s\S]*?<\/metadata\s*>)/gi;

function stripSvg(bytes: Uint8Array): Uint8Array {
  const text = Buffer.from(bytes).toString('utf8').replace(SVG_BADGE_ELEMENT, '').replace(SVG_METADATA, '');
  return Buffer.from(text, 'utf8');
}

/** The image fit for a public page, or null when it cannot be made safe. */
export function publicImage(
  image: { contentType: string; bytes: Uint8Array },
  addresses: readonly string[],
): { contentType: string; bytes: Uint8Array } | null {
  let bytes: Uint8Array | null;
  if (image.contentType === 'image/png') bytes = stripPng(image.bytes);
  else if (image.contentType === 'image/svg+xml') bytes = stripSvg(image.bytes);
  else return null;
  if (!bytes) return null;
  // Any spelling of the address left in the file (an SVG's text, a PNG chunk that survived):
  // the image is not served.
  const text = Buffer.from(bytes).toString(image.contentType === 'image/svg+xml' ? 'utf8' : 'latin1');
  if (names(text, addressMatcher(addresses))) return null;
  if (image.contentType === 'image/svg+xml' && /<([\w.-]+:)?(assertion|credential)\b/i.test(text))
    return null;
  return { contentType: image.contentType, bytes };
}
