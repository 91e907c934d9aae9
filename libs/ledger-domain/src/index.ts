// The public face of the ledger domain: one decider (decideLedger), its state and events, and the
// batch fold. The per-command decisions (*-decisions.ts) are its parts, not a second way in.
export * from './account.js';
export * from './ledger.js';
export * from './ledger-state.js';
export * from './operation-records.js';
export * from './ledger-batch.js';
