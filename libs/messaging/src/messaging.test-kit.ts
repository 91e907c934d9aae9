// Helpers for this library's integration tests: unique names, raw Kafka reads and writes that bypass
// the publisher (to send what a well-behaved producer never would), and polling.
import { randomUUID } from 'node:crypto';
import kafkajs from 'kafkajs';
import { pino } from 'pino';
import { createKafka, kafkaSettingsFromEnv, type KafkaLogLevelName, type KafkaSettings } from './kafka-settings.js';
import { silentLogger, type Logger } from './logger.js';
import type { KafkaHeaders } from './message-headers.js';

export const TEST_DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/clearline_test';

/** Silent, unless MESSAGING_TEST_LOG names a pino level (e.g. debug) to watch a test run. */
export function testLogger(): Logger {
  const level = process.env['MESSAGING_TEST_LOG'];
  return level ? pino({ level }, pino.destination(2)) : silentLogger;
}

export function uniqueSuffix(): string {
  return randomUUID().replaceAll('-', '').slice(0, 12);
}

export function testSettings(clientId: string): KafkaSettings {
  const level = process.env['MESSAGING_TEST_LOG'];
  const kafkaLevel: KafkaLogLevelName = level === 'debug' || level === 'trace' ? 'debug' : 'warn';
  return { ...kafkaSettingsFromEnv(clientId), logLevel: kafkaLevel };
}

export async function waitFor(description: string, condition: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}`);
}

export interface RawRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: KafkaHeaders;
}

/** Reads `count` records from the start of `topic` with a throw-away group, then disconnects. */
export async function readRecords(settings: KafkaSettings, topic: string, count: number, timeoutMs = 30_000): Promise<RawRecord[]> {
  const consumer = createKafka(settings, testLogger()).consumer({ groupId: `reader-${uniqueSuffix()}`, maxWaitTimeInMs: 200 });
  const records: RawRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic: from, partition, message }) => {
        records.push({
          topic: from,
          partition,
          offset: message.offset,
          key: message.key === null ? null : message.key.toString('utf8'),
          value: message.value,
          headers: message.headers ?? {},
        });
      },
    });
    await waitFor(`${count} records on ${topic} (have ${records.length})`, () => records.length >= count, timeoutMs);
    return records;
  } finally {
    await consumer.disconnect();
  }
}

/** Writes records as they are, bypassing contract validation, to one partition. */
export async function sendRaw(
  settings: KafkaSettings,
  topic: string,
  messages: readonly { key?: string; value: string | Buffer | null; headers?: Record<string, string> }[],
  partition = 0,
): Promise<void> {
  const producer = createKafka(settings, testLogger()).producer({ allowAutoTopicCreation: false, createPartitioner: kafkajs.Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: messages.map((message) => ({ ...message, partition })) });
  } finally {
    await producer.disconnect();
  }
}
