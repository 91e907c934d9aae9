import type { Notification, Pool, PoolClient } from 'pg';
import { quoteIdentifier, withTransaction } from '@clearline/postgres';
import { compareAllPositions, START } from './all-position.js';
import { APPENDED_NOTIFICATION_CHANNEL, notificationConcerns } from './event-store.sql.js';
import type { AllPosition, RecordedEvent } from './event-store.types.js';
import { assertValidCategory } from './event-validation.js';
import type { PostgresEventStore, ReadAllResult } from './postgres-event-store.js';
import { retryDelayMs, type Backoff } from '@clearline/retry';

export interface CatchUpSubscriptionOptions {
  store: PostgresEventStore;
  /** Runs the handler's transactions and, when listening, holds one connection for LISTEN. */
  pool: Pool;
  /** Names the checkpoint row; one subscription id = one consumer of $all. */
  subscriptionId: string;
  /** Only events of these categories. Default: all. */
  categories?: string[];
  /** Events per handler call, 1..10,000. Default 500. */
  batchSize?: number;
  /** How often to look for new events when caught up, 10..60,000 ms. Default 1,000. */
  pollIntervalMs?: number;
  /**
   * Once caught up, reads at most this often, 0..60,000 ms. Default 0 (read as soon as notified).
   * A projection that can lag a little (analytics) trades that lag for bigger batches: under load
   * it would otherwise run a read, a transaction and its upserts for every few events appended.
   */
  minReadIntervalMs?: number;
  /** Also wake on NOTIFY event_store_appended (costs one pooled connection). Default true. */
  listen?: boolean;
  /** Backoff after a failed batch. Default 100 ms doubling up to 30 s. */
  retry?: Partial<Backoff>;
  /**
   * Processes one batch in $all order inside a transaction: write through `client` and the writes
   * commit together with the checkpoint, or not at all. Throwing rolls both back and the batch is
   * retried after a backoff, so the handler must be safe to run again on the same events.
   */
  handle: (events: RecordedEvent[], client: PoolClient) => Promise<void>;
  onError?: (error: unknown, context: { subscriptionId: string; consecutiveFailures: number; retryInMs: number }) => void;
}

export interface SubscriptionStatus {
  subscriptionId: string;
  state: 'new' | 'running' | 'stopping' | 'stopped';
  /** The checkpoint: the last event processed (START before the first). */
  position: AllPosition;
  /** True when the last read returned less than a full batch: nothing more was visible then. */
  caughtUp: boolean;
  lastProcessedAt: Date | undefined;
  processedEventCount: number;
  consecutiveFailures: number;
  lastError: string | undefined;
}

interface Listener {
  client: PoolClient;
  onError: (error: Error) => void;
}

const BATCH_SIZE_LIMIT = 10_000;
const POLL_INTERVAL_LIMITS_MS = { min: 10, max: 60_000 } as const;
const RETRY_DELAY_LIMIT_MS = 300_000;
const FIRST_RECHECK_DELAY_MS = 10;

/**
 * A catch-up subscription to $all: reads history from its checkpoint, then follows live appends,
 * in one loop, one batch at a time (the next batch is not read until the handler's transaction has
 * committed, which is the back-pressure). The checkpoint is stored in the same transaction as the
 * handler's writes, so a crash never leaves one without the other. Two instances with the same id
 * do not both process a batch: each locks the checkpoint row and skips a batch it finds already done.
 */
export class CatchUpSubscription {
  private state: SubscriptionStatus['state'] = 'new';
  private checkpoint: AllPosition = START;
  private caughtUp = false;
  private lastProcessedAt: Date | undefined;
  private processedEventCount = 0;
  private consecutiveFailures = 0;
  private lastError: string | undefined;
  private starting: Promise<void> | undefined;
  private loop: Promise<void> | undefined;
  private stopped: Promise<void> | undefined;
  private listener: Listener | undefined;
  private nextListenAttemptAt = 0;
  private notified = false;
  /**
   * After a notification, empty reads are retried after this delay, doubling up to the poll
   * interval: the notified event may still be held back behind an older open transaction, which
   * sends no notification when it ends.
   */
  private recheckDelayMs: number | undefined;
  /** Ends the current sleep; set while sleeping. */
  private wake: ((reason: 'stop' | 'notification') => void) | undefined;

  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly minReadIntervalMs: number;
  private lastReadStartedAt = 0;
  private readonly retry: Backoff;
  private readonly checkpointTable: string;

  constructor(private readonly options: CatchUpSubscriptionOptions) {
    const { subscriptionId, categories } = options;
    if (typeof subscriptionId !== 'string' || subscriptionId.trim() === '' || subscriptionId.length > 200) {
      throw new RangeError('CatchUpSubscription: subscriptionId must be a non-empty string of at most 200 characters');
    }
    if (categories !== undefined) {
      if (categories.length === 0) throw new RangeError('CatchUpSubscription: categories, when given, must not be empty');
      categories.forEach(assertValidCategory);
    }
    this.batchSize = boundedInteger('batchSize', options.batchSize ?? 500, 1, BATCH_SIZE_LIMIT);
    this.pollIntervalMs = boundedInteger('pollIntervalMs', options.pollIntervalMs ?? 1_000, POLL_INTERVAL_LIMITS_MS.min, POLL_INTERVAL_LIMITS_MS.max);
    this.minReadIntervalMs = boundedInteger('minReadIntervalMs', options.minReadIntervalMs ?? 0, 0, POLL_INTERVAL_LIMITS_MS.max);
    const initialMs = boundedInteger('retry.initialMs', options.retry?.initialMs ?? 100, 1, RETRY_DELAY_LIMIT_MS);
    const maxMs = boundedInteger('retry.maxMs', options.retry?.maxMs ?? 30_000, initialMs, RETRY_DELAY_LIMIT_MS);
    this.retry = { initialMs, maxMs };
    this.checkpointTable = `${quoteIdentifier(options.store.schema)}.subscription_checkpoints`;
  }

  /**
   * Loads (or creates) the checkpoint, then runs the loop in the background until stop(). Rejects
   * when the checkpoint cannot be loaded (the subscription is then stopped).
   */
  start(): Promise<void> {
    if (this.state !== 'new') return Promise.reject(new Error(`subscription '${this.options.subscriptionId}' cannot start: it is ${this.state} (create a new one)`));
    this.state = 'running';
    this.starting = this.startOnce();
    return this.starting;
  }

  /** Lets the batch in progress finish (commit or roll back), then stops. Safe to call at any time, any number of times. */
  stop(): Promise<void> {
    this.stopped ??= this.stopOnce();
    return this.stopped;
  }

  position(): AllPosition {
    return this.checkpoint;
  }

  status(): SubscriptionStatus {
    return {
      subscriptionId: this.options.subscriptionId,
      state: this.state,
      position: this.checkpoint,
      caughtUp: this.caughtUp,
      lastProcessedAt: this.lastProcessedAt,
      processedEventCount: this.processedEventCount,
      consecutiveFailures: this.consecutiveFailures,
      lastError: this.lastError,
    };
  }

  private async startOnce(): Promise<void> {
    try {
      this.checkpoint = await this.loadCheckpoint();
    } catch (error) {
      this.state = 'stopped';
      throw error;
    }
    if (this.options.listen ?? true) await this.connectListener();
    this.loop = this.run();
  }

  private async stopOnce(): Promise<void> {
    if (this.state === 'new') {
      this.state = 'stopped';
      return;
    }
    this.state = 'stopping';
    // A stop during start waits for the start to settle, so nothing it opens is left behind.
    await this.starting?.catch(() => undefined);
    this.wake?.('stop');
    await this.loop;
    await this.disconnectListener();
    this.state = 'stopped';
  }

  private async run(): Promise<void> {
    while (this.state === 'running') {
      try {
        await this.ensureListener();
        // Caught up, a notification gathers the appends of the rest of the interval into one batch.
        const gatherMs = this.caughtUp ? this.lastReadStartedAt + this.minReadIntervalMs - Date.now() : 0;
        if (gatherMs > 0) await this.sleep(gatherMs, false);
        if (this.state !== 'running') break;
        this.notified = false;
        this.lastReadStartedAt = Date.now();
        const page = await this.options.store.readAll({ after: this.checkpoint, maxCount: this.batchSize, ...(this.options.categories === undefined ? {} : { categories: this.options.categories }) });
        this.caughtUp = page.events.length < this.batchSize;
        if (page.events.length > 0) await this.processBatch(page);
        this.consecutiveFailures = 0;
        if (this.caughtUp && !this.notified) await this.sleep(this.nextIdleDelayMs(), true);
      } catch (error) {
        this.consecutiveFailures += 1;
        this.lastError = error instanceof Error ? error.message : String(error);
        const retryInMs = retryDelayMs(Math.max(this.consecutiveFailures, 1), this.retry);
        this.reportError(error, retryInMs);
        await this.sleep(retryInMs, false);
      }
    }
  }

  private nextIdleDelayMs(): number {
    const delayMs = this.recheckDelayMs;
    if (delayMs === undefined) return this.pollIntervalMs;
    this.recheckDelayMs = delayMs * 2 < this.pollIntervalMs ? delayMs * 2 : undefined;
    return delayMs;
  }

  private async processBatch(page: ReadAllResult): Promise<void> {
    const movedTo = await withTransaction(this.options.pool, async (client) => {
      const stored = await this.lockCheckpoint(client);
      // Another instance with our id processed this batch while we read it: adopt its checkpoint.
      if (compareAllPositions(stored, this.checkpoint) !== 0) return stored;
      await this.options.handle(page.events, client);
      await client.query(`update ${this.checkpointTable} set transaction_id = $2::xid8, global_position = $3, updated_at = now() where subscription_id = $1`, [
        this.options.subscriptionId,
        page.lastPosition.transactionId.toString(),
        page.lastPosition.globalPosition.toString(),
      ]);
      return undefined;
    });
    if (movedTo !== undefined) {
      this.checkpoint = movedTo;
      return;
    }
    this.checkpoint = page.lastPosition;
    this.lastProcessedAt = new Date();
    this.processedEventCount += page.events.length;
  }

  private async loadCheckpoint(): Promise<AllPosition> {
    await this.options.pool.query(
      `insert into ${this.checkpointTable} (subscription_id, transaction_id, global_position) values ($1, '0', 0) on conflict (subscription_id) do nothing`,
      [this.options.subscriptionId],
    );
    return this.lockCheckpoint(this.options.pool);
  }

  private async lockCheckpoint(queryable: Pool | PoolClient): Promise<AllPosition> {
    const lock = queryable === this.options.pool ? '' : ' for update';
    const result = await queryable.query<{ transaction_id: string; global_position: string }>(
      `select transaction_id, global_position from ${this.checkpointTable} where subscription_id = $1${lock}`,
      [this.options.subscriptionId],
    );
    const row = result.rows[0];
    if (row === undefined) throw new Error(`subscription '${this.options.subscriptionId}': checkpoint row is missing`);
    return { transactionId: BigInt(row.transaction_id), globalPosition: BigInt(row.global_position) };
  }

  /** Sleeps up to `ms`; stop() always ends it early, a notification only when `wakeOnNotification`. */
  private sleep(ms: number, wakeOnNotification: boolean): Promise<void> {
    if (this.state !== 'running') return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(), ms);
      const finish = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      this.wake = (reason) => {
        if (reason === 'stop' || wakeOnNotification) finish();
      };
    });
  }

  private onNotification = (message: Notification): void => {
    if (message.channel !== APPENDED_NOTIFICATION_CHANNEL || !notificationConcerns(message.payload ?? '', this.options.store.schema, this.options.categories)) return;
    this.notified = true;
    this.recheckDelayMs = Math.min(FIRST_RECHECK_DELAY_MS, this.pollIntervalMs);
    this.wake?.('notification');
  };

  private async ensureListener(): Promise<void> {
    if ((this.options.listen ?? true) && this.listener === undefined && Date.now() >= this.nextListenAttemptAt) await this.connectListener();
  }

  /** Failing to listen is not fatal: the subscription still polls, and tries again a poll interval later. */
  private async connectListener(): Promise<void> {
    let listener: Listener | undefined;
    try {
      const client = await this.options.pool.connect();
      const onError = (error: Error): void => this.dropListener(client, error);
      listener = { client, onError };
      client.on('notification', this.onNotification);
      client.on('error', onError);
      this.listener = listener;
      await client.query(`listen ${APPENDED_NOTIFICATION_CHANNEL}`);
    } catch (error) {
      if (listener !== undefined) this.dropListener(listener.client, error instanceof Error ? error : new Error(String(error)));
      else this.reportListenerFailure(error);
    }
  }

  /** Destroys a listening connection that failed; the loop reconnects later. */
  private dropListener(client: PoolClient, error: Error): void {
    const listener = this.listener;
    if (listener === undefined || listener.client !== client) return;
    this.listener = undefined;
    client.off('notification', this.onNotification);
    // Keep the error handler: a dead connection may still emit errors while it is torn down.
    client.release(error);
    this.reportListenerFailure(error);
  }

  private reportListenerFailure(error: unknown): void {
    this.nextListenAttemptAt = Date.now() + this.pollIntervalMs;
    this.reportError(error, this.pollIntervalMs);
  }

  private async disconnectListener(): Promise<void> {
    const listener = this.listener;
    if (listener === undefined) return;
    this.listener = undefined;
    listener.client.off('notification', this.onNotification);
    let releaseError: Error | undefined;
    try {
      await listener.client.query(`unlisten ${APPENDED_NOTIFICATION_CHANNEL}`);
    } catch (error) {
      releaseError = error instanceof Error ? error : new Error(String(error));
    }
    if (releaseError === undefined) listener.client.off('error', listener.onError);
    listener.client.release(releaseError);
  }

  private reportError(error: unknown, retryInMs: number): void {
    try {
      this.options.onError?.(error, { subscriptionId: this.options.subscriptionId, consecutiveFailures: this.consecutiveFailures, retryInMs });
    } catch {
      // A failing error reporter must not stop the subscription.
    }
  }
}

function boundedInteger(name: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`CatchUpSubscription: ${name} must be an integer in ${min}..${max}, got ${value}`);
  }
  return value;
}
