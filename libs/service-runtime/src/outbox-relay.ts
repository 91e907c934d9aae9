import { isContractType, type MessageEnvelope, type MessageMetadata } from '@clearline/contracts';
import { CatchUpSubscription, type PostgresEventStore, type RecordedEvent } from '@clearline/event-store';
import type { MessagePublisher } from '@clearline/messaging';
import type { Pool, PoolClient } from 'pg';
import type { Logger } from './logger.js';

export interface OutboxRelayOptions {
  /** Names the checkpoint and the leader lock: one relay per name publishes at a time. */
  name: string;
  /** Stream categories this service writes and therefore publishes (`payment`, `account` ...). */
  categories: string[];
  store: PostgresEventStore;
  pool: Pool;
  publisher: MessagePublisher;
  logger: Logger;
  batchSize?: number;
  leaderPollIntervalMs?: number;
}

/**
 * Publishes the event store to Kafka: tails the owned categories from a checkpoint, publishes every
 * message whose type is a contract (internal events stay inside), keyed by stream id so order per
 * stream holds, and stores the checkpoint only after the broker acknowledged (at least once).
 * A PostgreSQL advisory lock elects one publishing instance per relay name.
 */
export class OutboxRelay {
  private subscription: CatchUpSubscription | undefined;
  private leaderClient: PoolClient | undefined;
  private stopped = false;
  private leaderTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: OutboxRelayOptions) {}

  async start(): Promise<void> {
    this.stopped = false;
    await this.tryToLead();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.leaderTimer);
    await this.subscription?.stop();
    this.subscription = undefined;
    await this.releaseLeadership();
  }

  private async tryToLead(): Promise<void> {
    if (this.stopped) return;
    try {
      const client = await this.options.pool.connect();
      const { rows } = await client.query<{ acquired: boolean }>('select pg_try_advisory_lock(hashtext($1)) as acquired', [`outbox-relay:${this.options.name}`]);
      if (rows[0]?.acquired) {
        this.leaderClient = client;
        client.on('error', (error) => this.onLeadershipLost(error));
        try {
          await this.startPublishing();
        } catch (error) {
          await this.releaseLeadership();
          throw error;
        }
        this.options.logger.info({ relay: this.options.name }, 'outbox relay leads and publishes');
        return;
      }
      client.release();
    } catch (error) {
      this.options.logger.warn({ err: error, relay: this.options.name }, 'outbox relay could not take the lead; trying again');
    }
    this.leaderTimer = setTimeout(() => void this.tryToLead(), this.options.leaderPollIntervalMs ?? 2_000);
  }

  private async startPublishing(): Promise<void> {
    this.subscription = new CatchUpSubscription({
      store: this.options.store,
      pool: this.options.pool,
      subscriptionId: `outbox-relay:${this.options.name}`,
      categories: this.options.categories,
      batchSize: this.options.batchSize ?? 500,
      handle: (events: RecordedEvent[], _client: PoolClient) => this.publish(events),
      onError: (error: unknown) => this.options.logger.error({ err: error, relay: this.options.name }, 'outbox relay batch failed; retrying'),
    });
    await this.subscription.start();
  }

  private async publish(events: RecordedEvent[]): Promise<void> {
    const envelopes = events.filter((event) => isContractType(event.type)).map(toEnvelope);
    if (envelopes.length === 0) return;
    const streamIds = new Map(events.map((event) => [event.id, event.streamId]));
    await this.options.publisher.publish(envelopes, { key: (envelope) => streamIds.get(envelope.id) ?? envelope.id });
  }

  private onLeadershipLost(error: Error): void {
    this.options.logger.error({ err: error, relay: this.options.name }, 'outbox relay lost its leader connection; stepping down');
    void (async () => {
      await this.subscription?.stop();
      this.subscription = undefined;
      this.leaderClient = undefined;
      this.leaderTimer = setTimeout(() => void this.tryToLead(), this.options.leaderPollIntervalMs ?? 2_000);
    })();
  }

  private async releaseLeadership(): Promise<void> {
    const client = this.leaderClient;
    this.leaderClient = undefined;
    if (!client) return;
    await client.query('select pg_advisory_unlock(hashtext($1))', [`outbox-relay:${this.options.name}`]).catch(() => undefined);
    client.release();
  }
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
