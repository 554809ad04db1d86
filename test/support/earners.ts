// Test fixtures for an earner with verified addresses and a signed-in session or a token,
// created through the accounts services (the sign-in flows have their own tests).
import type { FastifyInstance } from 'fastify';

export interface TestEarner {
  id: string;
  addresses: string[];
  /** Headers that authenticate as this earner with a session cookie, from a trusted origin. */
  session: { cookie: string; origin: string };
}

let counter = 0;

export async function createEarner(app: FastifyInstance, addresses?: string[]): Promise<TestEarner> {
  counter += 1;
  const list = addresses ?? [`earner${counter}.${process.pid}.${Date.now()}@example.org`];
  const { accounts } = app.services;
  const { id } = await accounts.service.createEarner(list);
  const { secret } = await accounts.sessions.create(id, 'email', 'test');
  return {
    id,
    addresses: list,
    session: { cookie: `${accounts.cookieName}=${secret}`, origin: 'http://localhost:3000' },
  };
}

/** A personal access token for the earner with the given scopes. */
export async function createToken(app: FastifyInstance, earnerId: string, scopes: string[]): Promise<string> {
  const { secret } = await app.services.accounts.accessTokens.create(earnerId, 'test', scopes, null);
  return `Bearer ${secret}`;
}
