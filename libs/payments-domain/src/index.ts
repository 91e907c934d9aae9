export * from './connector-calls.js';
export * from './payment.js';
export * from './payment-process.js';
export * from './fee-schedule.js';
export * from './settlement-batch.js';
export * from './settlement-lines.js';
export * from './settlement-publications.js';
export * from './settlement-report.js';
