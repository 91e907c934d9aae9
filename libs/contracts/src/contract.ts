import type { JsonSchema } from './schema.js';
import type { TopicName } from './topics.js';

export type MessageKind = 'command' | 'event';

/**
 * What a message that crosses a service boundary promises: its name, version, schema, topic and
 * partition key. The schema is checked when the message is produced and again when it is consumed.
 */
export interface MessageContract<Type extends string = string, Data = unknown> {
  type: Type;
  kind: MessageKind;
  schemaVersion: number;
  topic: TopicName;
  description: string;
  /** Kafka key: messages with the same key keep their order. */
  partitionKey: (data: Data) => string;
  schema: JsonSchema;
}

export function defineContract<Type extends string, Data>(contract: MessageContract<Type, Data>): MessageContract<Type, Data> {
  return contract;
}
