import { MessageHeaders, type MessageEnvelope } from '@clearline/contracts';

/** A Kafka header value as clients hand it over: bytes, text, or several of either. */
export type HeaderValue = Buffer | string | (Buffer | string)[] | undefined;
export type KafkaHeaders = Record<string, HeaderValue>;

export const CONTENT_TYPE_JSON = 'application/json';

/** Names of the headers a dead-letter record adds to the original ones. */
export const DeadLetterHeaders = {
  reason: 'dlq-reason',
  originalTopic: 'dlq-original-topic',
  originalPartition: 'dlq-original-partition',
  originalOffset: 'dlq-original-offset',
  consumerGroup: 'dlq-consumer-group',
  failedAt: 'dlq-failed-at',
  attempts: 'dlq-attempts',
  /** Set when the record's value was left out (too large to copy): its size in bytes; the value stays on the original topic. */
  valueOmittedBytes: 'dlq-value-omitted-bytes',
} as const;

/** Bound on the reason a dead-letter record carries: enough for a message and a cause, no stack dump. */
export const DEAD_LETTER_REASON_MAX_LENGTH = 1_000;

/** The headers every published message carries, so routers and tools need not parse the value. */
export function envelopeHeaders(envelope: MessageEnvelope): Record<string, string> {
  return {
    [MessageHeaders.messageId]: envelope.id,
    [MessageHeaders.messageType]: envelope.type,
    [MessageHeaders.schemaVersion]: String(envelope.schemaVersion),
    [MessageHeaders.correlationId]: envelope.metadata.correlationId,
    [MessageHeaders.causationId]: envelope.metadata.causationId,
    [MessageHeaders.producer]: envelope.metadata.producer,
    [MessageHeaders.contentType]: CONTENT_TYPE_JSON,
  };
}

export interface DeadLetterFailure {
  reason: string;
  topic: string;
  partition: number;
  offset: string;
  consumerGroup: string;
  failedAt: Date;
  /** Handler attempts made; 0 when the message was rejected before any (unparsable, invalid). */
  attempts: number;
}

/**
 * The original headers, unchanged, plus the dead-letter ones. A message that is dead-lettered again
 * after a replay gets the new failure's dlq-* values, not a second copy of each.
 */
export function deadLetterHeaders(original: KafkaHeaders | undefined, failure: DeadLetterFailure): KafkaHeaders {
  return {
    ...original,
    [DeadLetterHeaders.reason]: truncateReason(failure.reason),
    [DeadLetterHeaders.originalTopic]: failure.topic,
    [DeadLetterHeaders.originalPartition]: String(failure.partition),
    [DeadLetterHeaders.originalOffset]: failure.offset,
    [DeadLetterHeaders.consumerGroup]: failure.consumerGroup,
    [DeadLetterHeaders.failedAt]: failure.failedAt.toISOString(),
    [DeadLetterHeaders.attempts]: String(failure.attempts),
  };
}

/** Cuts a reason to at most `maxLength` characters, never in the middle of a surrogate pair. */
export function truncateReason(reason: string, maxLength = DEAD_LETTER_REASON_MAX_LENGTH): string {
  const singleLine = reason.replace(/[\r\n]+/g, ' ');
  if (singleLine.length <= maxLength) return singleLine;
  const marker = '…';
  let end = maxLength - marker.length;
  const code = singleLine.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return `${singleLine.slice(0, end)}${marker}`;
}

/** A header as text: the first value if repeated, undefined if absent. */
export function headerText(headers: KafkaHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined) return undefined;
  return typeof first === 'string' ? first : first.toString('utf8');
}
