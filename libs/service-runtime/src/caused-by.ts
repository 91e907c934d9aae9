import { contractFor, deriveMessageId, isContractType, type MessageEnvelope, type MessageMetadata } from '@clearline/contracts';
import type { NewEvent } from '@clearline/event-store';

/**
 * Turns what a handler decided into events to append, caused by the message it handled: the same
 * correlation id, the handled message as causation, and ids derived from the cause, so handling the
 * same message again produces identical events and the event store's idempotent append absorbs it.
 */
export function eventsCausedBy(
  cause: Pick<MessageEnvelope, 'id' | 'metadata'>,
  producer: string,
  streamId: string,
  messages: readonly { type: string; data: unknown }[],
  now: Date,
): NewEvent[] {
  const metadata: MessageMetadata = {
    correlationId: cause.metadata.correlationId,
    causationId: cause.id,
    occurredAt: now.toISOString(),
    producer,
  };
  return messages.map((message, index) => ({
    id: deriveMessageId(cause.id, `${streamId}#${index}`),
    type: message.type,
    data: message.data,
    metadata,
    schemaVersion: isContractType(message.type) ? contractFor(message.type).schemaVersion : 1,
  }));
}
