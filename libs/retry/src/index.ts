export { assertValidBackoff, retryDelayMs, type Backoff } from './backoff.js';
