import { describe, expect, it } from 'vitest';
import { pageLinks } from '../../src/http/paging.ts';

const rels = (header: string) =>
  Object.fromEntries(
    header.split(', ').map((part) => {
      const [, target, rel] = /^<([^>]*)>; rel="([a-z]+)"$/.exec(part) ?? [];
      return [rel, target];
    }),
  );

describe('page links', () => {
  it('names first, previous, next and last pages of a list in the middle', () => {
    expect(rels(pageLinks('/v1/groups', { limit: 10, offset: 10 }, 35))).toEqual({
      first: '/v1/groups?limit=10&offset=0',
      prev: '/v1/groups?limit=10&offset=0',
      next: '/v1/groups?limit=10&offset=20',
      last: '/v1/groups?limit=10&offset=30',
    });
  });

  it('has no previous page on the first and no next page on the last', () => {
    expect(Object.keys(rels(pageLinks('/v1/groups', { limit: 10, offset: 0 }, 35)))).toEqual([
      'first',
      'next',
      'last',
    ]);
    expect(Object.keys(rels(pageLinks('/v1/groups', { limit: 10, offset: 30 }, 35)))).toEqual([
      'first',
      'prev',
      'last',
    ]);
  });

  it('points the last page at offset 0 for an empty list, and a page past the end back into it', () => {
    expect(rels(pageLinks('/v1/groups', { limit: 5, offset: 0 }, 0))).toEqual({
      first: '/v1/groups?limit=5&offset=0',
      last: '/v1/groups?limit=5&offset=0',
    });
    expect(rels(pageLinks('/v1/groups', { limit: 5, offset: 50 }, 12)).prev).toBe(
      '/v1/groups?limit=5&offset=45',
    );
  });

  it('carries the set filters, encoded, in every link and leaves unset ones out', () => {
    const links = rels(
      pageLinks('/v1/badges', { limit: 2, offset: 0 }, 3, { q: 'a&b c', status: undefined, sort: 'name' }),
    );
    expect(links.first).toBe('/v1/badges?q=a%26b+c&sort=name&limit=2&offset=0');
    expect(links.next).toBe('/v1/badges?q=a%26b+c&sort=name&limit=2&offset=2');
  });
});
