export * from './account.js';
export * from './account-decisions.js';
export * from './hold-decisions.js';
export * from './ledger.js';
export * from './ledger-decisions.js';
export * from './ledger-state.js';
export * from './operation-records.js';
export * from './transfer-decisions.js';
