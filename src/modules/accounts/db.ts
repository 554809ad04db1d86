import type { Db } from '../../db/client.ts';
import type { Prisma } from '../../generated/prisma-sqlite/client.ts';

export type { Db };
/** The client or a transaction of it: services take either, so callers can group writes. */
export type Tx = Db | Prisma.TransactionClient;
