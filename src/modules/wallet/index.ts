// Wallet: the earner as a holder. Holder DIDs whose keys are sealed at rest, credentials issued
// to those DIDs recognized as the earner's, and presentations signed with them.
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../db/client.ts';
import type { OperationHandlers } from '../../http/contract.ts';
import type { BadgePublicDetail } from '../badges/index.ts';
import { HolderKeys } from './holder-keys.ts';
import { Presentations } from './presentations.ts';
import { walletHandlers } from './routes.ts';

export { type HolderDidMethod, type HolderDidView, HolderKeys, type HolderSigner } from './holder-keys.ts';

export interface WalletModule {
  holderKeys: HolderKeys;
  handlers: OperationHandlers;
  exportSection: (earnerId: string) => Promise<Record<string, unknown>[]>;
}

export function createWallet(deps: {
  prisma: Db;
  holderKeyEncryptionKey: Buffer;
  now: () => Date;
  log?: FastifyBaseLogger;
  /** What a presentation may show of the earner's badges (accepted ones, with their originals). */
  badgeDetails: (earnerId: string, ids: string[]) => Promise<Map<string, BadgePublicDetail>>;
  /** The badges one of the earner's share links publishes, in order. */
  shareLinkBadgeIds: (earnerId: string, shareLinkId: string) => Promise<string[]>;
}): WalletModule {
  const holderKeys = new HolderKeys(deps.prisma, deps.holderKeyEncryptionKey, deps.now, deps.log);
  const presentations = new Presentations(holderKeys, deps.badgeDetails, deps.now);
  return {
    holderKeys,
    handlers: walletHandlers(holderKeys, presentations, deps.shareLinkBadgeIds),
    exportSection: (earnerId) => holderKeys.exportSection(earnerId),
  };
}
