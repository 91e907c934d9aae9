import { createHash } from 'node:crypto';

/**
 * Derives a stable UUID (version 5 layout, SHA-1 based) from a parent id and a name. Handlers use it
 * for the ids of the messages they produce, so a redelivered input produces the very same message
 * ids and the event store's idempotent append turns the repeat into a no-op.
 */
export function deriveMessageId(parentId: string, name: string): string {
  const digest = createHash('sha1').update(parentId).update('\u0000').update(name).digest();
  const bytes = digest.subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const UUID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$';

// Built once: every message a consumer reads and a publisher sends is checked with it, and a RegExp
// built per call cost about a microsecond each time. No `g` flag, so test() keeps no state.
const UUID_REGEXP = new RegExp(UUID_PATTERN);

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_REGEXP.test(value);
}
