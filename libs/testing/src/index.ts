export * from './gateway-client.js';
export * from './platform.js';
export * from './eventually.js';
export * from './fault-proxy.js';
