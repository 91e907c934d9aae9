import { APPENDED_NOTIFICATION_CHANNEL, notificationConcerns, type AllPosition, type PostgresEventStore, type ReadAllResult, type RecordedEvent } from '@clearline/event-store';
import { retryDelayMs, type Backoff } from '@clearline/retry';
import type { Notification, PoolClient } from 'pg';
import type { Logger } from './logger.js';
import type { OutboxRelayCheckpoint } from './outbox-relay-checkpoint.js';

export interface OutboxRelayTermOptions {
  relayName: string;
  /** The session holding the leader lock. It also LISTENs for appends and writes the checkpoint. */
  client: PoolClient;
  /** Gives the session back to its owner when the term ends: with the error that killed it, if one did. */
  release: (error: Error | undefined) => void;
  /** The advisory lock key the session holds, released when the term ends normally. */
  lockKey: string;
  checkpoint: OutboxRelayCheckpoint;
  store: PostgresEventStore;
  categories: string[];
  batchSize: number;
  pollIntervalMs: number;
  retry: Backoff;
  /** Publishes one batch (internal events included; it picks the contract ones) and resolves on the broker's ack. */
  publish: (events: RecordedEvent[]) => Promise<void>;
  logger: Logger;
  /** Called once the term has ended because its session died. */
  onLost: (term: OutboxRelayTerm) => void;
}

/** After a notification, empty reads are rechecked this soon, doubling up to the poll interval. */
const FIRST_RECHECK_DELAY_MS = 10;

/**
 * One leadership term of an outbox relay: reads its categories from the checkpoint in $all order,
 * publishes each batch and only then moves the checkpoint, until stopped or until its session dies.
 * The publish runs outside any database transaction: a transaction with an id open while the broker
 * answers would hold back every reader of $all in the cluster (see the event store's README), for as
 * long as Kafka is slow or down.
 */
export class OutboxRelayTerm {
  private state: 'running' | 'ending' | 'ended' = 'running';
  private position: AllPosition;
  private loop: Promise<void> = Promise.resolve();
  private ended: Promise<void> | undefined;
  private lostWith: Error | undefined;
  private notified = false;
  private recheckDelayMs: number | undefined;
  private wake: (() => void) | undefined;

  private constructor(
    private readonly options: OutboxRelayTermOptions,
    position: AllPosition,
  ) {
    this.position = position;
  }

  /**
   * Loads the checkpoint, listens for appends and starts the loop. The caller keeps the session if
   * this rejects. From the moment it resolves, the session's 'error' events must go to {@link lose}.
   */
  static async begin(options: OutboxRelayTermOptions): Promise<OutboxRelayTerm> {
    const position = await options.checkpoint.load(options.client);
    const term = new OutboxRelayTerm(options, position);
    options.client.on('notification', term.onNotification);
    try {
      await options.client.query(`listen ${APPENDED_NOTIFICATION_CHANNEL}`);
    } catch (error) {
      options.client.off('notification', term.onNotification);
      throw error;
    }
    term.loop = term.run();
    return term;
  }

  /** Lets the batch in flight finish (published and checkpointed, or failed), then gives the session back. */
  end(): Promise<void> {
    if (this.state === 'running') this.state = 'ending';
    this.wake?.();
    this.ended ??= this.loop.then(() => this.releaseSession());
    return this.ended;
  }

  /** The leader session died: PostgreSQL released the lock, so another relay may lead now. Step down. */
  lose(error: Error): void {
    if (this.lostWith !== undefined) return;
    this.lostWith = error;
    this.options.logger.error({ err: error, relay: this.options.relayName }, 'outbox relay lost its leader connection; stepping down');
    void this.end().then(() => this.options.onLost(this));
  }

  private async run(): Promise<void> {
    let consecutiveFailures = 0;
    while (this.state === 'running') {
      try {
        this.notified = false;
        const page = await this.options.store.readAll({ after: this.position, maxCount: this.options.batchSize, categories: this.options.categories });
        if (page.events.length > 0) await this.publishBatch(page);
        consecutiveFailures = 0;
        if (page.events.length < this.options.batchSize && !this.notified) await this.sleep(this.nextIdleDelayMs(), true);
      } catch (error) {
        if (this.state !== 'running') return;
        consecutiveFailures += 1;
        const retryInMs = retryDelayMs(consecutiveFailures, this.options.retry);
        this.options.logger.error({ err: error, relay: this.options.relayName, consecutiveFailures, retryInMs }, 'outbox relay batch failed; retrying');
        await this.sleep(retryInMs, false);
      }
    }
  }

  /** Publish first, checkpoint after the ack: a crash in between re-sends this batch (at least once), never skips it. */
  private async publishBatch(page: ReadAllResult): Promise<void> {
    await this.options.publish(page.events);
    const { position, moved } = await this.options.checkpoint.advance(this.options.client, this.position, page.lastPosition);
    if (!moved) {
      this.options.logger.warn({ relay: this.options.relayName, expected: `${this.position.transactionId}:${this.position.globalPosition}`, found: `${position.transactionId}:${position.globalPosition}` }, 'outbox relay checkpoint was moved by someone else; continuing from it');
    }
    this.position = position;
  }

  private nextIdleDelayMs(): number {
    const delayMs = this.recheckDelayMs;
    if (delayMs === undefined) return this.options.pollIntervalMs;
    this.recheckDelayMs = delayMs * 2 < this.options.pollIntervalMs ? delayMs * 2 : undefined;
    return delayMs;
  }

  /** Sleeps up to `ms`; end() always cuts it short, a notification only when `wakeOnNotification`. */
  private sleep(ms: number, wakeOnNotification: boolean): Promise<void> {
    if (this.state !== 'running') return Promise.resolve();
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(finish, ms);
      this.wake = () => {
        if (this.state !== 'running' || wakeOnNotification) finish();
      };
    });
  }

  private readonly onNotification = (message: Notification): void => {
    if (message.channel !== APPENDED_NOTIFICATION_CHANNEL || !notificationConcerns(message.payload ?? '', this.options.store.schema, this.options.categories)) return;
    this.notified = true;
    this.recheckDelayMs = Math.min(FIRST_RECHECK_DELAY_MS, this.options.pollIntervalMs);
    this.wake?.();
  };

  /** Unlistens and unlocks a live session for reuse; destroys a dead one (its lock went with it). */
  private async releaseSession(): Promise<void> {
    const { client, lockKey } = this.options;
    client.off('notification', this.onNotification);
    // A session that died holds no lock and cannot be reused: the owner destroys it.
    let releaseError = this.lostWith;
    if (releaseError === undefined) {
      try {
        await client.query(`unlisten ${APPENDED_NOTIFICATION_CHANNEL}`);
        await client.query('select pg_advisory_unlock(hashtext($1))', [lockKey]);
      } catch (error) {
        releaseError = error instanceof Error ? error : new Error(String(error));
      }
    }
    this.state = 'ended';
    this.options.release(releaseError);
  }
}
