import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { bakePng, OpenBadgesInputError, unbakePng } from '../../../src/modules/openbadges/index.ts';
import { itxtChunk, makePng, PNG_SIGNATURE, pngChunk, textChunk, ztxtChunk } from './helpers.ts';

function inputError(fn: () => unknown): OpenBadgesInputError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(OpenBadgesInputError);
    return err as OpenBadgesInputError;
  }
  throw new Error('expected an OpenBadgesInputError');
}

describe('unbakePng', () => {
  it('reads tEXt, iTXt and compressed iTXt / zTXt payloads', () => {
    expect(unbakePng(makePng([textChunk('openbadges', 'https://issuer.example/a/1')]))).toEqual({
      keyword: 'openbadges',
      text: 'https://issuer.example/a/1',
    });
    expect(unbakePng(makePng([itxtChunk('openbadgecredential', '{"é":1}')]))?.text).toBe('{"é":1}');
    expect(unbakePng(makePng([itxtChunk('openbadges', '{"x":2}', true)]))?.text).toBe('{"x":2}');
    expect(unbakePng(makePng([ztxtChunk('openbadges', deflateSync('{"z":3}'))]))?.text).toBe('{"z":3}');
  });

  it('ignores unrelated text chunks and returns null without a payload', () => {
    expect(unbakePng(makePng([textChunk('Comment', 'hello')]))).toBeNull();
  });

  it('refuses a file that is not a PNG', () => {
    expect(inputError(() => unbakePng(new TextEncoder().encode('GIF89a....'))).code).toBe(
      'png_bad_signature',
    );
  });

  it('refuses a huge declared chunk length without allocating it', () => {
    const png = Buffer.from(makePng());
    const evil = Buffer.concat([
      png.subarray(0, 33),
      Buffer.from([0x7f, 0xff, 0xff, 0xf0]),
      Buffer.from('tEXt'),
    ]);
    const err = inputError(() => unbakePng(evil));
    expect(err.kind).toBe('malformed');
    expect(err.code).toBe('png_truncated');
  });

  it('refuses 100k chunks', () => {
    const many = Array.from({ length: 100_000 }, () => pngChunk('tIME', Buffer.alloc(7)));
    const err = inputError(() => unbakePng(makePng(many)));
    expect(err.kind).toBe('too_large');
    expect(err.code).toBe('png_too_many_chunks');
  });

  it('refuses a file above the size cap', () => {
    const big = makePng([pngChunk('zzzz', Buffer.alloc(64 * 1024))]);
    const err = inputError(() => unbakePng(big, { maxBytes: 32 * 1024, maxChunks: 100, maxTextBytes: 1024 }));
    expect(err.kind).toBe('too_large');
  });

  it('bounds compressed-text inflation (zTXt and iTXt bombs)', () => {
    const bomb = deflateSync(Buffer.alloc(50 * 1024 * 1024, 0x61));
    expect(bomb.length).toBeLessThan(100 * 1024);
    const z = inputError(() => unbakePng(makePng([ztxtChunk('openbadges', bomb)])));
    expect(z.kind).toBe('too_large');
    const itxt = pngChunk(
      'iTXt',
      Buffer.concat([Buffer.from('openbadges'), Buffer.from([0, 1, 0, 0, 0]), bomb]),
    );
    expect(inputError(() => unbakePng(makePng([itxt]))).code).toBe('png_text_too_large');
  });

  it('refuses a bad CRC', () => {
    const png = Buffer.from(makePng([textChunk('openbadges', 'https://x.example/a')]));
    const at = png.indexOf('openbadges');
    png[at + 12] = (png[at + 12] ?? 0) ^ 0xff;
    expect(inputError(() => unbakePng(png)).code).toBe('png_bad_crc');
  });

  it('refuses a truncated file and a file without IEND', () => {
    const png = Buffer.from(makePng());
    expect(inputError(() => unbakePng(png.subarray(0, png.length - 6))).code).toBe('png_truncated');
    expect(inputError(() => unbakePng(Buffer.concat([PNG_SIGNATURE]))).code).toBe('png_truncated');
  });

  it('refuses a corrupt compressed text', () => {
    const bad = ztxtChunk('openbadges', Buffer.from('not deflate data'));
    expect(inputError(() => unbakePng(makePng([bad]))).code).toBe('png_bad_compressed_text');
  });
});

describe('bakePng', () => {
  it('round-trips a 2.0 and a 3.0 payload', () => {
    const two = bakePng(makePng(), '{"id":"https://x.example/a"}', '2.0');
    expect(unbakePng(two)).toEqual({ keyword: 'openbadges', text: '{"id":"https://x.example/a"}' });
    const three = bakePng(makePng(), 'eyJ.eyJ.sig', '3.0');
    expect(unbakePng(three)).toEqual({ keyword: 'openbadgecredential', text: 'eyJ.eyJ.sig' });
  });

  it('replaces an existing payload rather than adding a second', () => {
    const once = bakePng(makePng([textChunk('openbadges', 'old')]), 'new', '2.0');
    const twice = bakePng(once, 'newer', '2.0');
    expect(unbakePng(twice)?.text).toBe('newer');
    const text = Buffer.from(twice).toString('latin1');
    expect(text.split('openbadges').length - 1).toBe(1);
  });

  it('keeps the image chunks intact', () => {
    const original = Buffer.from(makePng());
    const baked = Buffer.from(bakePng(original, 'x', '2.0'));
    const idat = original.subarray(original.indexOf('IDAT') - 4);
    expect(baked.subarray(baked.length - idat.length).equals(idat)).toBe(true);
  });
});
