import { contractFor, type ContractEnvelope, type ContractType, type DataOf } from '@clearline/contracts';
import { randomUUID } from 'node:crypto';

/**
 * Polls `find` until it returns something other than undefined, and returns that; fails naming
 * `description` after `timeoutMs`. For integration tests waiting on what services publish or store.
 */
export async function eventually<T>(
  description: string,
  find: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 60_000,
  pollMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = await find();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}`);
}

/** A contract envelope as a test's producer sends it: a fresh id, the contract's schema version, its own correlation. */
export function testEnvelope<Type extends ContractType>(type: Type, data: DataOf<Type>, producer: string, id: string = randomUUID()): ContractEnvelope {
  return {
    id, type, schemaVersion: contractFor(type).schemaVersion, data,
    metadata: { correlationId: id, causationId: id, occurredAt: new Date().toISOString(), producer },
  } as ContractEnvelope;
}
