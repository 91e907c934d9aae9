export * from './gateway-client.js';
export * from './platform.js';
export * from './eventually.js';
