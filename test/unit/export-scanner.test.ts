import { describe, expect, it } from 'vitest';
import { ExportFormatError, ExportScanner, type ScannedValue } from '../../src/modules/imports/scanner.ts';

const doc = {
  exportedAt: '2026-11-30T12:00:00.000Z',
  account: { id: 'a', displayName: 'Ada "\\u00e9" \u00e9', n: -1.5e3 },
  addresses: [{ id: 'x', verified: true, verifiedAt: null }],
  sections: {
    badges: [
      { id: 'b1', original: { format: 'jws', text: 'e.y.z' }, nested: [[[]], {}], image: null },
      {
        id: 'b2',
        original: { format: 'json', text: '{"a":"]}"}' },
        image: { contentType: 'image/png', data: 'AA==' },
      },
    ],
    groups: [{ name: 'G', badgeIds: ['b1', 'b2'] }],
    shareLinks: [{ token: 'secret' }],
    connectedIssuers: [],
  },
};

function scan(text: string, pieceBytes: number): ScannedValue[] {
  const scanner = new ExportScanner();
  const bytes = Buffer.from(text);
  const found: ScannedValue[] = [];
  for (let at = 0; at < bytes.length; at += pieceBytes)
    found.push(...scanner.push(bytes.subarray(at, at + pieceBytes)));
  found.push(...scanner.end());
  return found;
}

function failure(text: string): ExportFormatError {
  try {
    scan(text, 7);
  } catch (err) {
    if (err instanceof ExportFormatError) return err;
    throw err;
  }
  throw new Error(`accepted: ${text}`);
}

describe('the export scanner', () => {
  it('finds the same values whatever the pieces the document arrives in', () => {
    const text = JSON.stringify(doc, null, 1);
    const expected: ScannedValue[] = [
      { kind: 'exportedAt', value: doc.exportedAt },
      { kind: 'account', value: doc.account },
      { kind: 'badge', value: doc.sections.badges[0], index: 0 },
      { kind: 'badge', value: doc.sections.badges[1], index: 1 },
      { kind: 'group', value: doc.sections.groups[0], index: 0 },
    ];
    for (const piece of [1, 2, 3, 5, 64, 100_000])
      expect(scan(text, piece), `pieces of ${piece}`).toEqual(expected);
  });

  it('refuses what is not JSON as malformed, wherever it breaks', () => {
    const text = JSON.stringify(doc);
    for (const bad of [
      text.slice(0, -1),
      `${text}x`,
      text.replace('"jws"', "'jws'"),
      text.replace('true', 'tru'),
      text.replace('-1500', '01'),
      text.replace('"G"', '"G\u0001"'),
      text.replace('"b1"', '"\\x"'),
      text.replace('[[[]]', '[[[}]'),
      `${'['.repeat(100)}${']'.repeat(100)}`,
      '',
    ]) {
      expect(failure(bad).kind, bad.slice(0, 80)).toBe('malformed');
    }
  });

  it('refuses JSON that is not shaped like an export as unrecognized', () => {
    const without = (key: string) => JSON.stringify({ ...doc, [key]: undefined });
    for (const bad of [
      '[]',
      '"text"',
      without('exportedAt'),
      without('account'),
      without('sections'),
      JSON.stringify({ ...doc, sections: { ...doc.sections, badges: {} } }),
      JSON.stringify({ ...doc, sections: [] }),
      `${JSON.stringify(doc).slice(0, -1)},"sections":{"badges":[]}}`,
    ]) {
      expect(failure(bad).kind, bad.slice(0, 80)).toBe('unrecognized');
    }
  });
});
