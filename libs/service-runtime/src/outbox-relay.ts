import { isContractType, type MessageEnvelope, type MessageMetadata } from '@clearline/contracts';
import type { PostgresEventStore, RecordedEvent } from '@clearline/event-store';
import type { MessagePublisher } from '@clearline/messaging';
import type { Backoff } from '@clearline/retry';
import type { Pool, PoolClient } from 'pg';
import type { Logger } from './logger.js';
import { OutboxRelayCheckpoint } from './outbox-relay-checkpoint.js';
import { OutboxRelayTerm } from './outbox-relay-term.js';

export interface OutboxRelayOptions {
  /** Names the checkpoint and the leader lock: one relay per name publishes at a time. */
  name: string;
  /** Stream categories this service writes and therefore publishes (`payment`, `account` ...). */
  categories: string[];
  store: PostgresEventStore;
  /** Holds the leader's session (lock, LISTEN, checkpoint writes): one connection while leading. */
  pool: Pool;
  publisher: Pick<MessagePublisher, 'publish'>;
  logger: Logger;
  /** Events read (and at most published) per batch, 1..10,000. Default 500. */
  batchSize?: number;
  /** How often a follower tries to take the lead, and a deposed leader to take it back. Default 2,000 ms. */
  leaderPollIntervalMs?: number;
  /** How often the leader looks for new events when caught up and no NOTIFY woke it, 10..60,000. Default 1,000 ms. */
  pollIntervalMs?: number;
  /** Backoff after a failed batch: 100 ms doubling up to 30 s by default. */
  retry?: Partial<Backoff>;
  /**
   * The Kafka key of a published event. Default: its stream id, so order per stream holds. A relay
   * whose streams are parts of a longer sequence (a merchant's settlement batches) keys by that
   * sequence instead; order then holds across its streams, since $all order is kept per key.
   */
  key?: (event: RecordedEvent) => string;
}

const LIMITS = {
  batchSize: { min: 1, max: 10_000 },
  leaderPollIntervalMs: { min: 10, max: 600_000 },
  pollIntervalMs: { min: 10, max: 60_000 },
  retryDelayMs: { min: 1, max: 300_000 },
} as const;

/**
 * Publishes the event store to Kafka: tails the owned categories from a checkpoint in $all order,
 * publishes every message whose type is a contract (internal events stay inside), keyed by stream id
 * so order per stream holds, and stores the checkpoint only after the broker acknowledged (at least
 * once: a crash in between re-sends that batch). A PostgreSQL advisory lock elects one publishing
 * instance per relay name; the checkpoint is written through the session that holds the lock, and
 * no transaction is held open while the broker answers (see OutboxRelayTerm).
 */
export class OutboxRelay {
  private started = false;
  private attempt: Promise<void> | undefined;
  private term: OutboxRelayTerm | undefined;
  private leaderTimer: NodeJS.Timeout | undefined;
  private readonly lockKey: string;
  private readonly checkpoint: OutboxRelayCheckpoint;
  private readonly batchSize: number;
  private readonly leaderPollIntervalMs: number;
  private readonly pollIntervalMs: number;
  private readonly retry: Backoff;

  constructor(private readonly options: OutboxRelayOptions) {
    if (options.name.trim() === '') throw new RangeError('OutboxRelay: name must not be empty');
    if (options.categories.length === 0) throw new RangeError('OutboxRelay: categories must not be empty');
    this.lockKey = `outbox-relay:${options.name}`;
    this.checkpoint = new OutboxRelayCheckpoint(options.store.schema, this.lockKey);
    this.batchSize = boundedInteger('batchSize', options.batchSize ?? 500, LIMITS.batchSize);
    this.leaderPollIntervalMs = boundedInteger('leaderPollIntervalMs', options.leaderPollIntervalMs ?? 2_000, LIMITS.leaderPollIntervalMs);
    this.pollIntervalMs = boundedInteger('pollIntervalMs', options.pollIntervalMs ?? 1_000, LIMITS.pollIntervalMs);
    const initialMs = boundedInteger('retry.initialMs', options.retry?.initialMs ?? 100, LIMITS.retryDelayMs);
    const maxMs = boundedInteger('retry.maxMs', options.retry?.maxMs ?? 30_000, { min: initialMs, max: LIMITS.retryDelayMs.max });
    this.retry = { initialMs, maxMs };
  }

  /**
   * Tries to take the lead once: resolves leading and publishing, or following (trying again every
   * leaderPollIntervalMs). Rejects, stopped, when it took the lead but cannot publish (no checkpoint
   * table, say): a misconfiguration must fail the service's start, not hide in a retry loop.
   */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    try {
      await this.tryToLead(true);
    } catch (error) {
      this.started = false;
      throw error;
    }
  }

  /** Lets the batch in flight finish and checkpoint, then gives up the lead. Safe to call at any time. */
  async stop(): Promise<void> {
    this.started = false;
    clearTimeout(this.leaderTimer);
    this.leaderTimer = undefined;
    // An attempt under way may be about to lead: wait for it, so its term is ended below.
    await this.attempt?.catch(() => undefined);
    const term = this.term;
    this.term = undefined;
    await term?.end();
  }

  private tryToLead(failLoudly: boolean): Promise<void> {
    const attempt = this.attemptToLead(failLoudly).finally(() => {
      if (this.attempt === attempt) this.attempt = undefined;
    });
    this.attempt = attempt;
    return attempt;
  }

  private async attemptToLead(failLoudly: boolean): Promise<void> {
    if (!this.started) return;
    const session = await this.lockedSession();
    if (session === undefined) return this.scheduleAttempt();
    if (!this.started) return session.release(await this.unlock(session.client));
    try {
      this.term = await OutboxRelayTerm.begin({
        relayName: this.options.name,
        client: session.client,
        release: session.release,
        lockKey: this.lockKey,
        checkpoint: this.checkpoint,
        store: this.options.store,
        categories: this.options.categories,
        batchSize: this.batchSize,
        pollIntervalMs: this.pollIntervalMs,
        retry: this.retry,
        publish: (events) => this.publish(events),
        logger: this.options.logger,
        onLost: (term) => this.onLeadershipLost(term),
      });
    } catch (error) {
      session.release(await this.unlock(session.client));
      if (failLoudly) throw error;
      this.options.logger.error({ err: error, relay: this.options.name }, 'outbox relay took the lead but could not start publishing; trying again');
      return this.scheduleAttempt();
    }
    session.follow(this.term);
    this.options.logger.info({ relay: this.options.name }, 'outbox relay leads and publishes');
  }

  /**
   * A pooled session holding the leader lock, or undefined when another instance holds it or the
   * database cannot be reached (then the session, if any, is already given back).
   */
  private async lockedSession(): Promise<LeaderSession | undefined> {
    let session: LeaderSession | undefined;
    try {
      session = leaderSession(await this.options.pool.connect());
      const { rows } = await session.client.query<{ acquired: boolean }>('select pg_try_advisory_lock(hashtext($1)) as acquired', [this.lockKey]);
      if (rows[0]?.acquired === true) return session;
      session.release(undefined);
    } catch (error) {
      session?.release(error instanceof Error ? error : new Error(String(error)));
      this.options.logger.warn({ err: error, relay: this.options.name }, 'outbox relay could not try the leader lock; trying again');
    }
    return undefined;
  }

  /** Unlocks before the session goes back to the pool; returns the error that makes it unusable, if any. */
  private async unlock(client: PoolClient): Promise<Error | undefined> {
    try {
      await client.query('select pg_advisory_unlock(hashtext($1))', [this.lockKey]);
      return undefined;
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  }

  private scheduleAttempt(): void {
    if (!this.started) return;
    clearTimeout(this.leaderTimer);
    this.leaderTimer = setTimeout(() => {
      this.leaderTimer = undefined;
      void this.tryToLead(false).catch((error: unknown) => this.options.logger.error({ err: error, relay: this.options.name }, 'outbox relay leadership attempt failed'));
    }, this.leaderPollIntervalMs);
  }

  private onLeadershipLost(term: OutboxRelayTerm): void {
    if (this.term !== term) return;
    this.term = undefined;
    this.scheduleAttempt();
  }

  private async publish(events: RecordedEvent[]): Promise<void> {
    const envelopes = events.filter((event) => isContractType(event.type)).map(toEnvelope);
    if (envelopes.length === 0) return;
    const keyOf = this.options.key ?? ((event: RecordedEvent) => event.streamId);
    const streamIds = new Map(events.map((event) => [event.id, keyOf(event)]));
    // An event that breaks its contract (stored by an older or buggy version) goes to the dead-letter
    // topic with the reason, loudly, instead of stopping every later event of the service forever.
    await this.options.publisher.publish(envelopes, { key: (envelope) => streamIds.get(envelope.id) ?? envelope.id, invalid: 'dead_letter' });
  }
}

/** A checked-out connection with an 'error' listener from checkout to release, so it cannot crash the process. */
interface LeaderSession {
  client: PoolClient;
  /** From now on, the session's death ends this term. */
  follow: (term: OutboxRelayTerm) => void;
  /** Removes the listener and gives the connection back (destroyed when `error` is given). */
  release: (error: Error | undefined) => void;
}

function leaderSession(client: PoolClient): LeaderSession {
  let died: Error | undefined;
  let term: OutboxRelayTerm | undefined;
  let released = false;
  const onError = (error: Error): void => {
    died ??= error;
    term?.lose(error);
  };
  client.on('error', onError);
  return {
    client,
    follow: (following) => {
      term = following;
      if (died !== undefined) following.lose(died);
    },
    release: (error) => {
      if (released) return;
      released = true;
      client.off('error', onError);
      client.release(error ?? died);
    },
  };
}

export function toEnvelope(event: RecordedEvent): MessageEnvelope {
  return {
    id: event.id,
    type: event.type,
    schemaVersion: event.schemaVersion,
    data: event.data,
    metadata: event.metadata as MessageMetadata,
  };
}

function boundedInteger(name: string, value: number, limits: { min: number; max: number }): number {
  if (!Number.isSafeInteger(value) || value < limits.min || value > limits.max) {
    throw new RangeError(`OutboxRelay: ${name} must be an integer in ${limits.min}..${limits.max}, got ${value}`);
  }
  return value;
}
