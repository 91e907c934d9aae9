// The webhook tables (apps/gateway/migrations/0001_webhooks.sql): SQL only, no decisions.
import { preparedStatement, quoteIdentifier, withTransaction, type PreparedStatement } from '@clearline/postgres';
import type { Pool, PoolClient } from 'pg';

export interface SubscriptionRecord {
  subscriptionId: string;
  client: string;
  url: string;
  eventTypes: string[];
  secretCiphertext: string;
  createdAt: Date;
}

export interface NewSubscription extends Omit<SubscriptionRecord, 'createdAt'> {
  idempotencyKey: string;
  requestHash: string;
}

export type CreateOutcome =
  | { outcome: 'created'; subscription: SubscriptionRecord }
  | { outcome: 'replayed'; subscription: SubscriptionRecord; requestHash: string; deleted: boolean }
  | { outcome: 'limit_reached' };

export interface NewDelivery {
  deliveryId: string;
  subscriptionId: string;
  eventId: string;
  eventType: string;
  payload: string;
  giveUpAt: Date;
}

/** A delivery the dispatcher took, with what it needs to send it. */
export interface ClaimedDelivery {
  deliveryId: string;
  subscriptionId: string;
  eventId: string;
  eventType: string;
  payload: string;
  giveUpAt: Date;
  /** Attempts since the event arrived or since its last manual redelivery (the backoff counts these). */
  attemptsThisRound: number;
  url: string;
  secretCiphertext: string;
}

export interface AttemptRecord {
  startedAt: Date;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
  succeeded: boolean;
}

/** What the delivery becomes after an attempt. */
export type DeliveryTransition =
  | { status: 'succeeded' }
  | { status: 'failed' }
  | { status: 'pending'; nextAttemptAt: Date };

export interface DeliveryView {
  deliveryId: string;
  subscriptionId: string;
  eventId: string;
  eventType: string;
  status: 'pending' | 'succeeded' | 'failed';
  attemptCount: number;
  nextAttemptAt: string | null;
  giveUpAt: string;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
  completedAt: string | null;
  attempts: { attempt: number; startedAt: string; durationMs: number; statusCode: number | null; error: string | null; succeeded: boolean }[];
}

export interface DeliveryPosition {
  createdAt: string;
  deliveryId: string;
}

/** Attempts shown per delivery in the log, newest first (the retry schedule makes about 30 in 24 hours). */
const ATTEMPTS_SHOWN = 50;

interface SubscriptionRow {
  subscription_id: string;
  client: string;
  url: string;
  event_types: string[];
  secret_ciphertext: string;
  created_at: Date;
}

const subscriptionOf = (row: SubscriptionRow): SubscriptionRecord => ({
  subscriptionId: row.subscription_id, client: row.client, url: row.url, eventTypes: row.event_types, secretCiphertext: row.secret_ciphertext, createdAt: row.created_at,
});

export class WebhooksRepository {
  private readonly subscriptions: string;
  private readonly deliveries: string;
  private readonly attempts: string;
  /** Run for every event of payments.events, hence prepared (with the columns named, as preparedStatement asks). */
  private readonly activeSubscriptionsStatement: PreparedStatement;

  constructor(private readonly pool: Pool, schema: string) {
    const table = (name: string) => `${quoteIdentifier(schema)}.${name}`;
    this.subscriptions = table('webhook_subscriptions');
    this.deliveries = table('webhook_deliveries');
    this.attempts = table('webhook_delivery_attempts');
    this.activeSubscriptionsStatement = preparedStatement(
      `select subscription_id, client, url, event_types, secret_ciphertext, created_at from ${this.subscriptions} where client = $1 and deleted_at is null for share`,
    );
  }

  /**
   * Creates the subscription unless the client already used this Idempotency-Key (then the first one
   * is answered again) or holds `maxActive` subscriptions. Per-client lock: two creates of one client
   * cannot both pass the bound.
   */
  async createSubscription(subscription: NewSubscription, maxActive: number): Promise<CreateOutcome> {
    return withTransaction(this.pool, async (client) => {
      await client.query('select pg_advisory_xact_lock(hashtextextended($1, 0))', [`webhooks:${subscription.client}`]);
      const existing = await client.query<SubscriptionRow & { request_hash: string; deleted_at: Date | null }>(
        `select * from ${this.subscriptions} where client = $1 and idempotency_key = $2`, [subscription.client, subscription.idempotencyKey],
      );
      const replayed = existing.rows[0];
      if (replayed) return { outcome: 'replayed', subscription: subscriptionOf(replayed), requestHash: replayed.request_hash, deleted: replayed.deleted_at !== null };
      const active = await client.query<{ count: string }>(`select count(*) from ${this.subscriptions} where client = $1 and deleted_at is null`, [subscription.client]);
      if (Number(active.rows[0]!.count) >= maxActive) return { outcome: 'limit_reached' };
      const inserted = await client.query<SubscriptionRow>(
        `insert into ${this.subscriptions} (subscription_id, client, url, event_types, secret_ciphertext, idempotency_key, request_hash)
         values ($1, $2, $3, $4, $5, $6, $7) returning *`,
        [subscription.subscriptionId, subscription.client, subscription.url, subscription.eventTypes, subscription.secretCiphertext, subscription.idempotencyKey, subscription.requestHash],
      );
      return { outcome: 'created', subscription: subscriptionOf(inserted.rows[0]!) };
    });
  }

  /** Active subscriptions, newest first: the client's own, or everyone's (an analyst) when client is undefined. */
  async listSubscriptions(client: string | undefined, limit: number): Promise<SubscriptionRecord[]> {
    const { rows } = await this.pool.query<SubscriptionRow>(
      `select * from ${this.subscriptions} where deleted_at is null and ($1::text is null or client = $1) order by created_at desc, subscription_id limit $2`,
      [client ?? null, limit],
    );
    return rows.map(subscriptionOf);
  }

  /** An active subscription the client may see (any client's when client is undefined). */
  async findSubscription(subscriptionId: string, client: string | undefined): Promise<SubscriptionRecord | undefined> {
    const { rows } = await this.pool.query<SubscriptionRow>(
      `select * from ${this.subscriptions} where subscription_id = $1 and deleted_at is null and ($2::text is null or client = $2)`,
      [subscriptionId, client ?? null],
    );
    return rows[0] && subscriptionOf(rows[0]);
  }

  /** Deletes the client's subscription and gives up its pending deliveries; false when it has no such subscription. */
  async deleteSubscription(subscriptionId: string, client: string, now: Date): Promise<boolean> {
    return withTransaction(this.pool, async (connection) => {
      const deleted = await connection.query(
        `update ${this.subscriptions} set deleted_at = $3 where subscription_id = $1 and client = $2 and deleted_at is null`, [subscriptionId, client, now],
      );
      if (deleted.rowCount === 0) return false;
      await connection.query(
        `update ${this.deliveries} set status = 'failed', next_attempt_at = null, completed_at = $2, last_error = 'subscription_deleted'
         where subscription_id = $1 and status = 'pending'`,
        [subscriptionId, now],
      );
      return true;
    });
  }

  /**
   * The client's active subscriptions, read in the consumer's inbox transaction. FOR SHARE: a delete
   * waits for the deliveries this transaction adds (and then gives them up with the rest), or this
   * transaction waits for the delete and no longer sees the subscription.
   */
  async activeSubscriptionsOf(connection: PoolClient, client: string): Promise<SubscriptionRecord[]> {
    const { rows } = await connection.query<SubscriptionRow>({ ...this.activeSubscriptionsStatement, values: [client] });
    return rows.map(subscriptionOf);
  }

  /** Records deliveries due now; an event that arrives again adds none (one per event and subscription). */
  async insertDeliveries(connection: PoolClient, deliveries: readonly NewDelivery[], now: Date): Promise<number> {
    let inserted = 0;
    for (const delivery of deliveries) {
      const result = await connection.query(
        `insert into ${this.deliveries} (delivery_id, subscription_id, event_id, event_type, payload, status, next_attempt_at, give_up_at, created_at)
         values ($1, $2, $3, $4, $5, 'pending', $6, $7, $6) on conflict do nothing`,
        [delivery.deliveryId, delivery.subscriptionId, delivery.eventId, delivery.eventType, delivery.payload, now, delivery.giveUpAt],
      );
      inserted += result.rowCount ?? 0;
    }
    return inserted;
  }

  /**
   * Claims up to `limit` due deliveries: each one's next attempt moves to the end of a lease, so
   * another instance takes it again only if this one dies mid-attempt. Rows another instance is
   * claiming are skipped.
   */
  async claimDueDeliveries(now: Date, leaseMs: number, limit: number): Promise<ClaimedDelivery[]> {
    const { rows } = await this.pool.query<{
      delivery_id: string; subscription_id: string; event_id: string; event_type: string; payload: string; give_up_at: Date; attempts_this_round: number; url: string; secret_ciphertext: string;
    }>(
      `with due as (
         select delivery_id from ${this.deliveries}
         where status = 'pending' and next_attempt_at <= $1
         order by next_attempt_at
         limit $3
         for update skip locked)
       update ${this.deliveries} delivery set next_attempt_at = $1::timestamptz + make_interval(secs => $2::double precision / 1000)
       from due, ${this.subscriptions} subscription
       where delivery.delivery_id = due.delivery_id and subscription.subscription_id = delivery.subscription_id
       returning delivery.delivery_id, delivery.subscription_id, delivery.event_id, delivery.event_type, delivery.payload, delivery.give_up_at,
                 delivery.attempt_count - delivery.attempts_before_redelivery as attempts_this_round, subscription.url, subscription.secret_ciphertext`,
      [now, leaseMs, limit],
    );
    return rows.map((row) => ({
      deliveryId: row.delivery_id, subscriptionId: row.subscription_id, eventId: row.event_id, eventType: row.event_type, payload: row.payload,
      giveUpAt: row.give_up_at, attemptsThisRound: row.attempts_this_round, url: row.url, secretCiphertext: row.secret_ciphertext,
    }));
  }

  /**
   * Logs one attempt under the next attempt number and moves the delivery on. A delivery no longer
   * pending (its subscription was deleted meanwhile) keeps its state; the attempt is logged all the same.
   */
  async recordAttempt(deliveryId: string, attempt: AttemptRecord, transition: DeliveryTransition, now: Date): Promise<number> {
    return withTransaction(this.pool, async (connection) => {
      const nextAttemptAt = transition.status === 'pending' ? transition.nextAttemptAt : null;
      const updated = await connection.query<{ attempt_count: number }>(
        `update ${this.deliveries} set
           attempt_count = attempt_count + 1,
           status = case when status = 'pending' then $2 else status end,
           next_attempt_at = case when status = 'pending' then $3::timestamptz else next_attempt_at end,
           completed_at = case when status = 'pending' and $2 <> 'pending' then $4::timestamptz else completed_at end,
           last_status_code = $5,
           last_error = $6
         where delivery_id = $1
         returning attempt_count`,
        [deliveryId, transition.status, nextAttemptAt, now, attempt.statusCode, attempt.error],
      );
      const number = updated.rows[0]?.attempt_count;
      if (number === undefined) throw new Error(`unreachable: delivery ${deliveryId} vanished while it was being sent`);
      await connection.query(
        `insert into ${this.attempts} (delivery_id, attempt, started_at, duration_ms, status_code, error, succeeded) values ($1, $2, $3, $4, $5, $6, $7)`,
        [deliveryId, number, attempt.startedAt, attempt.durationMs, attempt.statusCode, attempt.error, attempt.succeeded],
      );
      return number;
    });
  }

  /**
   * Makes a delivery of the client's active subscription due now, with a fresh retry window, whatever
   * its state; false when the client has no such delivery.
   */
  async redeliver(deliveryId: string, client: string, now: Date, giveUpAt: Date): Promise<boolean> {
    const result = await this.pool.query(
      `update ${this.deliveries} delivery set status = 'pending', next_attempt_at = $3, give_up_at = $4, completed_at = null,
         attempts_before_redelivery = delivery.attempt_count
       from ${this.subscriptions} subscription
       where delivery.delivery_id = $1 and subscription.subscription_id = delivery.subscription_id
         and subscription.client = $2 and subscription.deleted_at is null`,
      [deliveryId, client, now, giveUpAt],
    );
    return result.rowCount === 1;
  }

  /** A page of a subscription's delivery log, newest first, after `after` (a position of the previous page). */
  async deliveryPage(subscriptionId: string, after: DeliveryPosition | undefined, limit: number): Promise<DeliveryView[]> {
    const { rows } = await this.pool.query<{
      delivery_id: string; subscription_id: string; event_id: string; event_type: string; status: DeliveryView['status']; attempt_count: number;
      next_attempt_at: Date | null; give_up_at: Date; last_status_code: number | null; last_error: string | null; created_at: Date; completed_at: Date | null;
      attempts: { attempt: number; started_at: string; duration_ms: number; status_code: number | null; error: string | null; succeeded: boolean }[];
    }>(
      `select delivery.*, coalesce(attempts.list, '[]'::json) as attempts
       from ${this.deliveries} delivery
       left join lateral (
         select json_agg(row_to_json(logged) order by logged.attempt desc) as list
         from (select attempt, started_at, duration_ms, status_code, error, succeeded from ${this.attempts}
               where delivery_id = delivery.delivery_id order by attempt desc limit ${ATTEMPTS_SHOWN}) logged
       ) attempts on true
       where delivery.subscription_id = $1
         and ($2::timestamptz is null or (delivery.created_at, delivery.delivery_id) < ($2::timestamptz, $3::uuid))
       order by delivery.created_at desc, delivery.delivery_id desc
       limit $4`,
      [subscriptionId, after?.createdAt ?? null, after?.deliveryId ?? null, limit],
    );
    return rows.map((row) => ({
      deliveryId: row.delivery_id,
      subscriptionId: row.subscription_id,
      eventId: row.event_id,
      eventType: row.event_type,
      status: row.status,
      attemptCount: row.attempt_count,
      nextAttemptAt: row.next_attempt_at?.toISOString() ?? null,
      giveUpAt: row.give_up_at.toISOString(),
      lastStatusCode: row.last_status_code,
      lastError: row.last_error,
      createdAt: row.created_at.toISOString(),
      completedAt: row.completed_at?.toISOString() ?? null,
      attempts: row.attempts.map((attempt) => ({
        attempt: attempt.attempt, startedAt: new Date(attempt.started_at).toISOString(), durationMs: attempt.duration_ms,
        statusCode: attempt.status_code, error: attempt.error, succeeded: attempt.succeeded,
      })),
    }));
  }

  async pendingCount(): Promise<number> {
    const { rows } = await this.pool.query<{ count: string }>(`select count(*) from ${this.deliveries} where status = 'pending'`);
    return Number(rows[0]!.count);
  }
}
