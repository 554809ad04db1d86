// Public handles: the only way public routes find an earner, and only when the earner chose
// to publish one in the profile. There is deliberately no lookup by address.
import type { Db } from '../../db/client.ts';

export class PublicHandles {
  constructor(private readonly prisma: Db) {}

  /** The earner who published this handle, or null (unknown and unpublished look the same). */
  async earnerIdForHandle(handle: string): Promise<string | null> {
    const earner = await this.prisma.earner.findUnique({ where: { handle }, select: { id: true } });
    return earner?.id ?? null;
  }
}
