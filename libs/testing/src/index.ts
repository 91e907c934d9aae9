export * from './gateway-client.js';
export * from './platform.js';
