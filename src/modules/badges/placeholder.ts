// Plain images to bake a badge into when the badge came without an image of the requested type.
import { deflateSync } from 'node:zlib';
import { PNG_SIGNATURE, pngChunk } from '../openbadges/index.ts';

const SIZE = 64;
let png: Uint8Array | undefined;

/** A 64x64 opaque PNG in one colour, built once. */
export function placeholderPng(): Uint8Array {
  if (png) return png;
  const header = Buffer.alloc(13);
  header.writeUInt32BE(SIZE, 0);
  header.writeUInt32BE(SIZE, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // truecolour RGB
  const row = Buffer.alloc(1 + SIZE * 3);
  for (let x = 0; x < SIZE; x++) row.set([0x3b, 0x5b, 0xa9], 1 + x * 3);
  const pixels = Buffer.concat(Array.from({ length: SIZE }, () => row));
  png = new Uint8Array(
    Buffer.concat([
      PNG_SIGNATURE,
      pngChunk('IHDR', header),
      pngChunk('IDAT', deflateSync(pixels)),
      pngChunk('IEND', Buffer.alloc(0)),
    ]),
  );
  return png;
}

export function placeholderSvg(): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${SIZE}" height="${SIZE}" viewBox="0 0 ${SIZE} ${SIZE}"><circle cx="32" cy="32" r="30" fill="#3b5ba9"/></svg>`;
}
