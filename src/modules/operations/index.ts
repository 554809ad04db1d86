// Operations: liveness, readiness and the contract itself, for load balancers, operators and
// developers generating clients.

export { pendingMigrations } from './readiness.ts';
export { type OperationsDeps, operationsHandlers } from './routes.ts';
