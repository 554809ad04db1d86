// Privacy: what the operator does about earners' reports and platforms, each action recorded,
// and (through the other modules' services) the retention of what those actions leave.
import type { OperationHandlers } from '../../http/contract.ts';
import type { AccountsService } from '../accounts/index.ts';
import type { PlatformReports } from '../connect/index.ts';
import { operatorHandlers } from './operator-routes.ts';

export interface PrivacyDeps {
  accounts: AccountsService;
  reports: PlatformReports;
}

export interface PrivacyModule {
  handlers: OperationHandlers;
}

export function createPrivacy(deps: PrivacyDeps): PrivacyModule {
  return { handlers: operatorHandlers(deps) };
}
