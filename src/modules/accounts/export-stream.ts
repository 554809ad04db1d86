// The account export written out as it is read: the account's own data first, then each
// module's section item by item, so that a backpack of any size costs the same memory to export.
import { Readable } from 'node:stream';

/** Text is handed to the socket in pieces of about this size: few writes, little held. */
const PIECE_CHARS = 64 * 1024;

/**
 * The JSON document `{...head, "sections": {name: [items...], ...}}`, produced only as fast as
 * the reader takes it: the next items are read from their source when the previous piece is sent.
 */
export function exportStream(
  head: Record<string, unknown>,
  sections: [name: string, items: AsyncIterable<Record<string, unknown>>][],
): Readable {
  async function* pieces(): AsyncGenerator<string> {
    const opening = JSON.stringify(head);
    let piece = `${opening.slice(0, -1)}${opening.length > 2 ? ',' : ''}"sections":{`;
    let firstSection = true;
    for (const [name, items] of sections) {
      piece += `${firstSection ? '' : ','}${JSON.stringify(name)}:[`;
      firstSection = false;
      let first = true;
      for await (const item of items) {
        piece += `${first ? '' : ','}${JSON.stringify(item)}`;
        first = false;
        if (piece.length >= PIECE_CHARS) {
          yield piece;
          piece = '';
        }
      }
      piece += ']';
    }
    yield `${piece}}}`;
  }
  return Readable.from(pieces(), { objectMode: false });
}
