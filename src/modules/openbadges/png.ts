import { crc32, inflateSync } from 'node:zlib';
import { OpenBadgesInputError } from './errors.ts';

export interface PngLimits {
  /** Whole file. */
  maxBytes: number;
  maxChunks: number;
  /** Decompressed size of one zTXt/iTXt text. */
  maxTextBytes: number;
}

export const DEFAULT_PNG_LIMITS: PngLimits = {
  maxBytes: 10 * 1024 * 1024,
  maxChunks: 4096,
  maxTextBytes: 2 * 1024 * 1024,
};

const SIGNATURE = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
export const PNG_KEYWORD_V2 = 'openbadges';
export const PNG_KEYWORD_V3 = 'openbadgecredential';

interface Chunk {
  type: string;
  /** Offset of the length field; the chunk spans 12 + length bytes from there. */
  start: number;
  dataStart: number;
  length: number;
}

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);
}

function malformed(code: string, message: string): OpenBadgesInputError {
  return new OpenBadgesInputError('malformed', code, message);
}

/** Walks the chunk list without touching pixel data; every length, count and CRC is checked. */
function readChunks(bytes: Uint8Array, limits: PngLimits): Chunk[] {
  if (bytes.length > limits.maxBytes) {
    throw new OpenBadgesInputError('too_large', 'png_too_large', `PNG larger than ${limits.maxBytes} bytes`);
  }
  if (!isPng(bytes)) throw malformed('png_bad_signature', 'not a PNG file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: Chunk[] = [];
  let pos = 8;
  while (true) {
    if (pos + 12 > bytes.length) throw malformed('png_truncated', 'PNG ends inside a chunk header');
    const length = view.getUint32(pos);
    if (length > 0x7fffffff) throw malformed('png_bad_chunk_length', 'chunk length out of range');
    const dataStart = pos + 8;
    if (dataStart + length + 4 > bytes.length) {
      throw malformed('png_truncated', 'a chunk declares more bytes than the file holds');
    }
    const typeBytes = bytes.subarray(pos + 4, pos + 8);
    const type = String.fromCharCode(...typeBytes);
    if (!/^[A-Za-z]{4}$/.test(type)) throw malformed('png_bad_chunk_type', 'invalid chunk type');
    const expected = view.getUint32(dataStart + length);
    if (crc32(bytes.subarray(pos + 4, dataStart + length)) !== expected) {
      throw malformed('png_bad_crc', `CRC mismatch in ${type} chunk`);
    }
    if (chunks.length === 0 && type !== 'IHDR')
      throw malformed('png_no_ihdr', 'PNG does not start with IHDR');
    chunks.push({ type, start: pos, dataStart, length });
    if (chunks.length > limits.maxChunks) {
      throw new OpenBadgesInputError(
        'too_large',
        'png_too_many_chunks',
        `more than ${limits.maxChunks} chunks`,
      );
    }
    pos = dataStart + length + 4;
    if (type === 'IEND') return chunks;
  }
}

function inflateBounded(data: Uint8Array, limits: PngLimits): Buffer {
  try {
    return inflateSync(data, { maxOutputLength: limits.maxTextBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new OpenBadgesInputError(
        'too_large',
        'png_text_too_large',
        'compressed text inflates past the limit',
      );
    }
    throw malformed('png_bad_compressed_text', 'compressed text does not inflate');
  }
}

function indexOfZero(data: Uint8Array, from: number): number {
  const i = data.indexOf(0, from);
  if (i < 0) throw malformed('png_bad_text_chunk', 'text chunk without separator');
  return i;
}

/** Decodes a tEXt, zTXt or iTXt chunk; other chunk types give null. */
function decodeText(
  type: string,
  data: Uint8Array,
  limits: PngLimits,
): { keyword: string; text: string } | null {
  if (type !== 'tEXt' && type !== 'zTXt' && type !== 'iTXt') return null;
  const kwEnd = indexOfZero(data, 0);
  const keyword = Buffer.from(data.subarray(0, kwEnd)).toString('latin1');
  if (type === 'tEXt') return { keyword, text: Buffer.from(data.subarray(kwEnd + 1)).toString('latin1') };
  if (type === 'zTXt') {
    if (data[kwEnd + 1] !== 0) throw malformed('png_bad_compressed_text', 'unknown compression method');
    return { keyword, text: inflateBounded(data.subarray(kwEnd + 2), limits).toString('latin1') };
  }
  const compressed = data[kwEnd + 1];
  const method = data[kwEnd + 2];
  const langEnd = indexOfZero(data, kwEnd + 3);
  const transEnd = indexOfZero(data, langEnd + 1);
  const body = data.subarray(transEnd + 1);
  if (compressed === 1) {
    if (method !== 0) throw malformed('png_bad_compressed_text', 'unknown compression method');
    return { keyword, text: inflateBounded(body, limits).toString('utf8') };
  }
  if (body.length > limits.maxTextBytes) {
    throw new OpenBadgesInputError('too_large', 'png_text_too_large', 'text chunk past the limit');
  }
  return { keyword, text: Buffer.from(body).toString('utf8') };
}

/** The Open Badges payload baked into a PNG (`openbadges` for 0.5–2.0, `openbadgecredential` for 3.0). */
export function unbakePng(
  bytes: Uint8Array,
  limits: PngLimits = DEFAULT_PNG_LIMITS,
): { keyword: string; text: string } | null {
  const chunks = readChunks(bytes, limits);
  for (const c of chunks) {
    if (c.type !== 'tEXt' && c.type !== 'zTXt' && c.type !== 'iTXt') continue;
    const data = bytes.subarray(c.dataStart, c.dataStart + c.length);
    const kwEnd = data.indexOf(0);
    const keyword = kwEnd < 0 ? '' : Buffer.from(data.subarray(0, kwEnd)).toString('latin1');
    // Only our keywords are decoded, so an unrelated compressed chunk costs nothing.
    if (keyword !== PNG_KEYWORD_V2 && keyword !== PNG_KEYWORD_V3) continue;
    const decoded = decodeText(c.type, data, limits);
    if (decoded) return { keyword: decoded.keyword, text: decoded.text.trim() };
  }
  return null;
}

/** Checks a PNG's chunk structure (used for fetched badge images); throws OpenBadgesInputError if hostile. */
export function assertPng(bytes: Uint8Array, limits: PngLimits = DEFAULT_PNG_LIMITS): void {
  readChunks(bytes, limits);
}

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** One PNG chunk: the data's length, the type, the data, and the CRC of type and data. */
export function pngChunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/**
 * Bakes a payload (hosted URL, assertion JSON, JWS or credential) into an uncompressed iTXt chunk right
 * after IHDR. Existing Open Badges chunks are removed, so re-baking replaces rather than adds.
 */
export function bakePng(png: Uint8Array, payload: string, version: '2.0' | '3.0'): Uint8Array {
  const chunks = readChunks(png, DEFAULT_PNG_LIMITS);
  const keyword = version === '3.0' ? PNG_KEYWORD_V3 : PNG_KEYWORD_V2;
  const data = Buffer.concat([
    Buffer.from(keyword, 'latin1'),
    Buffer.from([0, 0, 0, 0, 0]),
    Buffer.from(payload, 'utf8'),
  ]);
  const parts: Uint8Array[] = [png.subarray(0, 8)];
  for (const c of chunks) {
    const raw = png.subarray(c.start, c.dataStart + c.length + 4);
    if (c.type === 'tEXt' || c.type === 'zTXt' || c.type === 'iTXt') {
      const body = png.subarray(c.dataStart, c.dataStart + c.length);
      const kwEnd = body.indexOf(0);
      const kw = kwEnd < 0 ? '' : Buffer.from(body.subarray(0, kwEnd)).toString('latin1');
      if (kw === PNG_KEYWORD_V2 || kw === PNG_KEYWORD_V3) continue;
    }
    parts.push(raw);
    if (c.type === 'IHDR') parts.push(pngChunk('iTXt', data));
  }
  return new Uint8Array(Buffer.concat(parts));
}
