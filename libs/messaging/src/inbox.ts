import type { Pool, PoolClient } from 'pg';
import { preparedStatement } from '@clearline/postgres';
import { describeError, isConnectivityError, MessagingInfrastructureError } from './message-errors.js';

/** A message as the inbox records it. */
export interface InboxEntry {
  messageId: string;
  messageType: string;
  offset: string;
}

/** Where the messages of one inbox write come from. */
export interface InboxSource {
  consumerGroup: string;
  topic: string;
  partition: number;
}

const INSERT_ONE = preparedStatement(`insert into messaging.inbox (consumer_group, message_id, message_type, topic, partition, "offset")
values ($1, $2, $3, $4, $5, $6)
on conflict (consumer_group, message_id) do nothing`);

// The offset, not the id, tells which rows are new: offsets are unique within a partition even when
// one message id comes twice in a chunk, and text keeps them exact whatever int8 parser pg has.
const INSERT_MANY = preparedStatement(`insert into messaging.inbox (consumer_group, message_id, message_type, topic, partition, "offset")
select $1, entry.message_id, entry.message_type, $2, $3, entry."offset"
from unnest($4::uuid[], $5::text[], $6::bigint[]) as entry(message_id, message_type, "offset")
on conflict (consumer_group, message_id) do nothing
returning "offset"::text as "offset"`);

const DELETE_MANY = preparedStatement(`delete from messaging.inbox where consumer_group = $1 and message_id = any($2::uuid[])`);

/** True if the message is new to the group; false if the group has handled it before. */
export async function recordInInbox(client: PoolClient, source: InboxSource, entry: InboxEntry): Promise<boolean> {
  const inserted = await client.query({ ...INSERT_ONE, values: [source.consumerGroup, entry.messageId, entry.messageType, source.topic, source.partition, entry.offset] });
  return inserted.rowCount !== 0;
}

/**
 * Records a chunk of one partition's messages in one statement and returns the offsets of those that
 * are new to the group. A message id seen before, by an earlier transaction or earlier in the same
 * chunk, is left out. Rows a concurrent transaction is inserting make this one wait for it.
 */
export async function recordManyInInbox(client: PoolClient, source: InboxSource, entries: readonly InboxEntry[]): Promise<Set<string>> {
  const result = await client.query<{ offset: string }>({ ...INSERT_MANY, values: [
    source.consumerGroup,
    source.topic,
    source.partition,
    entries.map((entry) => entry.messageId),
    entries.map((entry) => entry.messageType),
    entries.map((entry) => entry.offset),
  ] });
  return new Set(result.rows.map((row) => row.offset));
}

/** Takes back rows this transaction recorded for messages it will not handle, so they are not skipped later. */
export async function forgetInInbox(client: PoolClient, consumerGroup: string, messageIds: readonly string[]): Promise<void> {
  if (messageIds.length > 0) await client.query({ ...DELETE_MANY, values: [consumerGroup, messageIds] });
}

/** The state of a checked-out connection; a broken one is closed on release, never reused. */
export interface InboxConnection {
  client: PoolClient;
  broken: Error | undefined;
}

/**
 * Runs `work` on a pooled connection that is released afterwards, rolling back what `work` left open
 * when it throws. A connection in an unknown state (a timed-out handler may still be using it, a
 * rollback failed, the server ended it) is closed rather than returned to the pool.
 */
export async function withInboxConnection<T>(pool: Pool, work: (connection: InboxConnection) => Promise<T>): Promise<T> {
  let client: PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw new MessagingInfrastructureError(`no PostgreSQL connection: ${describeError(error)}`, { cause: error });
  }
  const connection: InboxConnection = { client, broken: undefined };
  // A checked-out client has no pool error listener; a connection dying mid-transaction would
  // otherwise be an unhandled 'error' event.
  const onConnectionError = (error: Error): void => {
    connection.broken ??= error;
  };
  client.on('error', onConnectionError);
  try {
    return await work(connection);
  } catch (error) {
    await rollBack(connection);
    throw error;
  } finally {
    client.off('error', onConnectionError);
    client.release(connection.broken);
  }
}

/** Rolls back the open transaction; a connection whose rollback fails is marked broken. */
export async function rollBack(connection: InboxConnection): Promise<void> {
  if (connection.broken !== undefined) return;
  try {
    await connection.client.query('rollback');
  } catch (error) {
    connection.broken = error instanceof Error ? error : new Error(String(error));
  }
}

/** Runs a step of the consumer's own (begin, inbox write, commit): its failure is no fault of the message. */
export async function infrastructureStep<T>(step: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw new MessagingInfrastructureError(`${step} failed: ${describeError(error)}`, { cause: error });
  }
}

export function asInfrastructureIfConnectivity(error: unknown): unknown {
  return isConnectivityError(error) ? new MessagingInfrastructureError(`database unavailable: ${describeError(error)}`, { cause: error }) : error;
}

/**
 * Commits. A transaction that a failed statement aborted answers COMMIT with ROLLBACK and no error:
 * a handler caught that statement's error and went on, and nothing of the transaction was kept.
 */
export async function commitTransaction(client: PoolClient): Promise<void> {
  const result = await client.query('commit');
  if (result.command === 'ROLLBACK') throw new TransactionAbortedError();
}

/** Nothing was committed: an earlier statement of the transaction had failed. */
export class TransactionAbortedError extends Error {
  constructor() {
    super('the transaction was aborted by a failed statement whose error the handler caught; nothing was committed');
    this.name = 'TransactionAbortedError';
  }
}
