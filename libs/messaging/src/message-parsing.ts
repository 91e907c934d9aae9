import { validateEnvelope, type ContractEnvelope } from '@clearline/contracts';

export type ParsedMessage = { accepted: true; envelope: ContractEnvelope } | { accepted: false; reason: string };

/** Bound on the value a consumer parses; Kafka's own default record limit is about 1 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_048_576;

/**
 * Turns a record value into a contract-valid envelope, or says why it cannot be one. Never throws:
 * whatever arrives on a topic is data, and a rejected record goes to the dead-letter topic.
 */
export function parseMessage(value: Buffer | null, maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES): ParsedMessage {
  if (value === null || value.length === 0) return { accepted: false, reason: 'the record has no value' };
  if (value.length > maxMessageBytes) {
    return { accepted: false, reason: `the record value is ${value.length} bytes, above the ${maxMessageBytes} bytes accepted` };
  }
  let candidate: unknown;
  try {
    candidate = JSON.parse(value.toString('utf8'));
  } catch (error) {
    return { accepted: false, reason: `the record value is not JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  const result = validateEnvelope(candidate);
  return result.valid ? { accepted: true, envelope: result.envelope } : { accepted: false, reason: result.reason };
}
