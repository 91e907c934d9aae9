export * from './payment.js';
export * from './payment-process.js';
