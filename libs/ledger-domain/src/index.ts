export * from './account.js';
export * from './ledger-decisions.js';
