// The accounts service: earners and their addresses. Other modules ask it who an earner is
// and which addresses they have verified; they never read its tables.
import type { Db } from '../../db/client.ts';
import { newId } from './secrets.ts';

export function normalizeAddress(address: string): string {
  return address.trim().toLowerCase();
}

export class AccountsService {
  constructor(
    private readonly prisma: Db,
    private readonly now: () => Date,
  ) {}

  /** Creates an earner whose given addresses are verified (the first one primary). */
  async createEarner(addresses: string[], displayName: string | null = null): Promise<{ id: string }> {
    const id = newId();
    const now = this.now();
    await this.prisma.earner.create({
      data: {
        id,
        displayName,
        createdAt: now,
        emails: {
          create: addresses.map((raw, i) => {
            const address = normalizeAddress(raw);
            return {
              id: newId(),
              address,
              verifiedAddress: address,
              verifiedAt: now,
              isPrimary: i === 0,
              createdAt: now,
            };
          }),
        },
      },
    });
    return { id };
  }

  /** Every address of the earner with whether it is verified: badges are matched against these. */
  async addresses(earnerId: string): Promise<{ address: string; verified: boolean }[]> {
    const rows = await this.prisma.emailAddress.findMany({
      where: { earnerId },
      select: { address: true, verifiedAt: true },
      orderBy: { createdAt: 'asc' },
    });
    return rows.map((r) => ({ address: r.address, verified: r.verifiedAt !== null }));
  }
}
