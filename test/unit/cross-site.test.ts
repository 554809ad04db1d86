import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { crossSite } from '../../src/http/auth.ts';

const trusted = new Set(['https://backpack.example', 'https://app.example']);
const from = (headers: Record<string, string>) =>
  crossSite({ headers } as unknown as FastifyRequest, trusted);

describe('crossSite', () => {
  it('trusts the service itself and the front ends it lists, by Origin', () => {
    expect(from({ origin: 'https://backpack.example' })).toBe(false);
    expect(from({ origin: 'https://app.example', 'sec-fetch-site': 'cross-site' })).toBe(false);
  });

  it('refuses any other Origin, whatever Sec-Fetch-Site claims', () => {
    expect(from({ origin: 'https://evil.example' })).toBe(true);
    expect(from({ origin: 'https://evil.example', 'sec-fetch-site': 'same-origin' })).toBe(true);
    expect(from({ origin: 'null' })).toBe(true);
    expect(from({ origin: 'https://backpack.example.evil.example' })).toBe(true);
  });

  it('reads Sec-Fetch-Site when there is no Origin', () => {
    expect(from({ 'sec-fetch-site': 'same-origin' })).toBe(false);
    expect(from({ 'sec-fetch-site': 'none' })).toBe(false);
    expect(from({ 'sec-fetch-site': 'same-site' })).toBe(true);
    expect(from({ 'sec-fetch-site': 'cross-site' })).toBe(true);
  });

  it('lets a request with neither header through: no browser page sent it', () => {
    expect(from({})).toBe(false);
  });
});
