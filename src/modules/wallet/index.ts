// Wallet: the earner as a holder. Holder DIDs whose keys are sealed at rest, credentials issued
// to those DIDs recognized as the earner's, and presentations signed with them.
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../db/client.ts';
import type { OperationHandlers } from '../../http/contract.ts';
import { HolderKeys } from './holder-keys.ts';
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
}): WalletModule {
  const holderKeys = new HolderKeys(deps.prisma, deps.holderKeyEncryptionKey, deps.now, deps.log);
  return {
    holderKeys,
    handlers: walletHandlers(holderKeys),
    exportSection: (earnerId) => holderKeys.exportSection(earnerId),
  };
}
