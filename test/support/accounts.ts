// Helpers for tests that go through the real sign-in flows rather than the fixtures of
// earners.ts: an app with a settable clock, and sign-in by e-mail link through HTTP.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { type AppOptions, buildApp } from '../../src/app.ts';
import type { Database } from '../../src/db/client.ts';
import { testConfig } from './app.ts';
import { lastCodeFor } from './mail.ts';

export const ORIGIN = 'http://localhost:3000';

export interface Clock {
  now: () => Date;
  set: (at: Date) => void;
  advance: (ms: number) => void;
}

export function fakeClock(start = new Date()): Clock {
  let at = start.getTime();
  return {
    now: () => new Date(at),
    set: (d) => {
      at = d.getTime();
    },
    advance: (ms) => {
      at += ms;
    },
  };
}

export async function accountsApp(
  db: Database,
  env: Record<string, string> = {},
  options: Partial<Omit<AppOptions, 'config' | 'db'>> = {},
): Promise<FastifyInstance> {
  const app = await buildApp({ config: testConfig(env), db, ...options });
  await app.ready();
  return app;
}

let counter = 0;
export function uniqueAddress(label = 'earner'): string {
  counter += 1;
  return `${label}${counter}.${process.pid}.${Date.now()}@example.org`;
}

export function cookieFrom(res: LightMyRequestResponse, name: string): string {
  const cookie = res.cookies.find((c) => c.name === name);
  if (!cookie) throw new Error(`no ${name} cookie set`);
  return `${name}=${cookie.value}`;
}

export interface SignedInEarner {
  address: string;
  /** Headers that act as this earner through the session, from the service's own origin. */
  headers: { cookie: string; origin: string };
  sessionId: string;
}

/** Asks for a link and redeems it through HTTP, creating the account when needed. */
export async function signInByEmail(
  app: FastifyInstance,
  address = uniqueAddress(),
  age = 30,
): Promise<SignedInEarner> {
  const asked = await app.inject({
    method: 'POST',
    url: '/v1/auth/email-links',
    headers: { origin: ORIGIN },
    payload: { email: address },
  });
  expect(asked.statusCode).toBe(202);
  const res = await app.inject({
    method: 'POST',
    url: '/v1/auth/email-sign-ins',
    headers: { origin: ORIGIN },
    payload: { code: lastCodeFor(app, address), age },
  });
  expect(res.statusCode, res.body).toBe(200);
  const body = res.json() as { session: { id: string } };
  return {
    address: address.toLowerCase(),
    headers: { cookie: cookieFrom(res, app.services.accounts.cookieName), origin: ORIGIN },
    sessionId: body.session.id,
  };
}

export function expectProblem(
  res: { statusCode: number; headers: Record<string, unknown>; json: () => unknown },
  status: number,
  code: string,
): Record<string, unknown> {
  expect(res.statusCode).toBe(status);
  expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
  const body = res.json() as Record<string, unknown>;
  expect(body).toMatchObject({ status, code });
  return body;
}
