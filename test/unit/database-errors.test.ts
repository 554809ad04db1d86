import { describe, expect, it } from 'vitest';
import { classifyDatabaseError } from '../../src/db/errors.ts';

describe('classifyDatabaseError', () => {
  it('reads a transaction that found no connection in time as the database being unavailable', () => {
    // What Prisma raises when its pool stays busy past a transaction's wait (seen under load).
    const err = Object.assign(
      new Error('Transaction API error: Unable to start a transaction in the given time.'),
      {
        name: 'PrismaClientKnownRequestError',
        code: 'P2028',
        meta: {},
      },
    );
    expect(classifyDatabaseError(err)).toBe('database_unavailable');
  });

  it('reads a pool timeout the same way, and a unique violation as a conflict', () => {
    expect(classifyDatabaseError({ code: 'P2024' })).toBe('database_unavailable');
    expect(classifyDatabaseError({ code: 'P2002' })).toBe('conflict');
    expect(classifyDatabaseError(new Error('anything else'))).toBeNull();
  });
});
