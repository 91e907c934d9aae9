/**
 * What travels on Kafka and is stored in the event store: a typed message with its metadata.
 * Correlation and causation ids travel with every message, from the HTTP request to the
 * settlement event, so one payment's whole path can be followed in logs and events.
 */
export interface MessageMetadata {
  /** The id shared by every message caused, directly or not, by one original request. */
  correlationId: string;
  /** The id of the message (or request) that caused this one. */
  causationId: string;
  /** ISO 8601 time at which the producer decided this message. */
  occurredAt: string;
  /** The service that produced it (gateway, payments, ledger, risk, analytics). */
  producer: string;
  [key: string]: unknown;
}

export interface MessageEnvelope<Type extends string = string, Data = unknown> {
  id: string;
  type: Type;
  schemaVersion: number;
  data: Data;
  metadata: MessageMetadata;
}

/** Kafka header names; values are UTF-8 strings. */
export const MessageHeaders = {
  messageId: 'message-id',
  messageType: 'message-type',
  schemaVersion: 'schema-version',
  correlationId: 'correlation-id',
  causationId: 'causation-id',
  producer: 'producer',
  contentType: 'content-type',
} as const;
