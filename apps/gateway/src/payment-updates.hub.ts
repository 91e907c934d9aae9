import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { Topics } from '@clearline/contracts';
import { createKafka, parseMessage, physicalGroup, physicalTopic, type KafkaSettings } from '@clearline/messaging';
import { kafkaSettingsOf, LOGGER, ProblemException, SERVICE_CONFIG, type Logger, type ServiceConfig } from '@clearline/service-runtime';
import type { Consumer, EachMessagePayload } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { Counter, Gauge, Registry } from 'prom-client';
import type { ClientRole } from './channel-keys.js';
import { OwnershipRegistry } from './object-ownership.js';
import { isPaymentUpdateEnvelope, paymentUpdateOf, streamIdOf, type PaymentUpdate } from './payment-updates.js';

/** Who listens: a channel hears its own payments, an analyst every payment. */
export interface Viewer {
  client: string;
  role: ClientRole;
}

export type PushTransport = 'long_poll' | 'sse' | 'websocket';

/** An update as a stream sends it: with its id (`<partition>-<offset>`) for Last-Event-ID. */
export interface StreamedUpdate {
  id: string;
  update: PaymentUpdate;
}

/** A connected stream (server-sent events or WebSocket); the hub calls it, never awaits it. */
export interface UpdateSubscriber {
  viewer: Viewer;
  transport: Exclude<PushTransport, 'long_poll'>;
  deliver(update: StreamedUpdate): void;
  /** The gateway is shutting down: end the stream now. */
  close(): void;
}

/** What subscribe() gives back: what the stream missed (or 'gap' when the hub cannot tell), and how to leave. */
export interface Subscription {
  replay: StreamedUpdate[] | 'gap';
  unsubscribe(): void;
}

/** Updates kept in memory for Last-Event-ID resumes and `after` long-polls; about 1 KiB each. */
const RECENT_CAPACITY = 2_000;
/** Payment owners remembered (an owner never changes, so a cached one never goes stale). */
const OWNER_CACHE_CAPACITY = 20_000;
/** Bounds per gateway instance; beyond them a new client gets a 503 and retries (elsewhere). */
const MAX_STREAMS = 2_000;
const MAX_WAITERS = 10_000;
/** How long start() waits for the first fetch (group joined, offsets at the end) before going on without it. */
const FIRST_FETCH_TIMEOUT_MS = 30_000;
/** Broker long-poll when there is nothing to fetch: short, so stop() is quick. */
const FETCH_MAX_WAIT_MS = 500;

interface RecentUpdate extends StreamedUpdate {
  owner: string | null;
  offset: bigint;
}

interface Waiter {
  after: bigint | undefined;
  resolve(update: PaymentUpdate | undefined): void;
}

interface PushMetrics {
  clients: Gauge<'transport'>;
  delivered: Counter<'transport'>;
  received: Counter<'outcome'>;
}

const metricsByRegistry = new WeakMap<Registry, PushMetrics>();

/** Shared by every gateway app of the process that uses the registry (tests start several). */
function pushMetrics(registry: Registry): PushMetrics {
  const known = metricsByRegistry.get(registry);
  if (known !== undefined) return known;
  const metrics: PushMetrics = {
    clients: new Gauge({ name: 'clearline_gateway_push_clients', help: 'Clients waiting for payment updates, by transport (long_poll, sse, websocket).', labelNames: ['transport'], registers: [registry] }),
    delivered: new Counter({ name: 'clearline_gateway_push_updates_delivered_total', help: 'Payment updates sent to clients, by transport.', labelNames: ['transport'], registers: [registry] }),
    received: new Counter({ name: 'clearline_gateway_push_events_received_total', help: 'payments.events records read by the push fan-out, by outcome (fanned_out, duplicate, ignored).', labelNames: ['outcome'], registers: [registry] }),
  };
  metricsByRegistry.set(registry, metrics);
  return metrics;
}

/**
 * Fans the payments service's events out to the channels listening on this gateway instance:
 * long-polls waiting on one payment, and server-sent-event and WebSocket streams. Every instance
 * reads every event: its Kafka consumer group is its own (a random id), starts at the end of the
 * topic and commits nothing, so the group leaves no offsets behind. (MessageConsumer is the other
 * way round: one group shared by a service's instances, exactly once through a PostgreSQL inbox.)
 * A channel hears a payment only if the ownership registry names it the owner; analysts hear all.
 */
@Injectable()
export class PaymentUpdatesHub implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly consumer: Consumer;
  private readonly settings: KafkaSettings;
  private readonly metrics: PushMetrics;
  private readonly recent: RecentUpdate[] = [];
  private readonly recentEventIds = new Set<string>();
  private readonly owners = new Map<string, string>();
  private readonly subscribers = new Set<UpdateSubscriber>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private waiterCount = 0;
  private closing = false;

  constructor(
    private readonly ownership: OwnershipRegistry,
    registry: Registry,
    @Inject(SERVICE_CONFIG) config: ServiceConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.metrics = pushMetrics(registry);
    const settings = kafkaSettingsOf(config);
    this.settings = settings;
    const groupId = physicalGroup(settings, `${settings.clientId}-push-${randomUUID()}`);
    this.consumer = createKafka({ ...settings, clientId: `${settings.clientId}-push` }, logger).consumer({
      groupId, maxWaitTimeInMs: FETCH_MAX_WAIT_MS, allowAutoTopicCreation: false,
    });
  }

  /** Joins its group and resolves once the first fetch is done: from then on every event published is heard. */
  async onApplicationBootstrap(): Promise<void> {
    const consumer = this.consumer;
    await consumer.connect();
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.logger.error({ err: payload.error, restart: payload.restart }, 'payment updates consumer crashed');
    });
    await consumer.subscribe({ topics: [physicalTopic(this.settings, Topics.paymentsEvents)], fromBeginning: false });
    let removeListener = (): void => undefined;
    const firstFetch = new Promise<boolean>((resolve) => {
      removeListener = consumer.on(consumer.events.FETCH, () => resolve(true));
    });
    await consumer.run({ autoCommit: false, eachMessage: (payload) => this.consume(payload) });
    let timer: NodeJS.Timeout | undefined;
    const fetched = await Promise.race([firstFetch, new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), FIRST_FETCH_TIMEOUT_MS); })]);
    clearTimeout(timer);
    removeListener();
    if (!fetched) this.logger.warn({ topic: Topics.paymentsEvents }, 'payment updates: no fetch yet; updates start once the consumer has joined its group');
  }

  /** Ends every stream and long-poll (a long-poll answers the current state), then leaves the group. */
  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    for (const subscriber of [...this.subscribers]) subscriber.close();
    for (const paymentId of [...this.waiters.keys()]) this.wake(paymentId, undefined);
    await this.consumer.disconnect();
  }

  /**
   * Adds a stream. With `lastEventId` (a resume) the updates after it that this instance still holds
   * come back as `replay`, or 'gap' when it holds no such id (too old, or heard by another instance).
   */
  subscribe(subscriber: UpdateSubscriber, lastEventId?: string): Subscription {
    if (this.closing) throw unavailable('The gateway is shutting down; reconnect.');
    if (this.subscribers.size >= MAX_STREAMS) throw unavailable('This gateway instance has as many streams as it serves; retry shortly.');
    let replay: StreamedUpdate[] | 'gap' = [];
    if (lastEventId !== undefined) {
      const index = this.recent.findIndex((entry) => entry.id === lastEventId);
      replay = index < 0 ? 'gap' : this.recent.slice(index + 1).filter((entry) => visibleTo(subscriber.viewer, entry.owner)).map(({ id, update }) => ({ id, update }));
    }
    this.subscribers.add(subscriber);
    this.metrics.clients.inc({ transport: subscriber.transport });
    let subscribed = true;
    return {
      replay,
      unsubscribe: () => {
        if (!subscribed) return;
        subscribed = false;
        this.subscribers.delete(subscriber);
        this.metrics.clients.dec({ transport: subscriber.transport });
      },
    };
  }

  /**
   * The next update of the payment, or undefined after `timeoutMs` (or when `signal` aborts: the
   * client went away). With `after`, an update this instance already holds with a higher version is
   * answered at once. The caller has checked that the payment is the client's.
   */
  async nextUpdate(paymentId: string, options: { after?: bigint; timeoutMs: number; signal: AbortSignal }): Promise<PaymentUpdate | undefined> {
    const { after, timeoutMs, signal } = options;
    if (after !== undefined) {
      const known = this.latestAfter(paymentId, after);
      if (known !== undefined) return known;
    }
    if (timeoutMs === 0 || this.closing || signal.aborted) return undefined;
    if (this.waiterCount >= MAX_WAITERS) throw unavailable('This gateway instance has as many long-polls as it serves; retry shortly.');
    return new Promise<PaymentUpdate | undefined>((resolve) => {
      const waiters = this.waiters.get(paymentId) ?? new Set<Waiter>();
      this.waiters.set(paymentId, waiters);
      const finish = (update: PaymentUpdate | undefined): void => {
        if (!waiters.delete(waiter)) return;
        if (waiters.size === 0 && this.waiters.get(paymentId) === waiters) this.waiters.delete(paymentId);
        this.waiterCount -= 1;
        this.metrics.clients.dec({ transport: 'long_poll' });
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (update !== undefined) this.metrics.delivered.inc({ transport: 'long_poll' });
        resolve(update);
      };
      const onAbort = (): void => finish(undefined);
      const waiter: Waiter = { after, resolve: finish };
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      waiters.add(waiter);
      this.waiterCount += 1;
      this.metrics.clients.inc({ transport: 'long_poll' });
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Never throws to kafkajs (which would fetch the record again, forever): a record that is not an update is skipped. */
  private async consume({ partition, message }: EachMessagePayload): Promise<void> {
    const parsed = parseMessage(message.value);
    const envelope = parsed.accepted ? parsed.envelope : undefined;
    if (envelope === undefined || !isPaymentUpdateEnvelope(envelope)) {
      this.metrics.received.inc({ outcome: 'ignored' });
      return;
    }
    if (this.recentEventIds.has(envelope.id)) {
      // The outbox relay publishes at least once: a republished event is not news.
      this.metrics.received.inc({ outcome: 'duplicate' });
      return;
    }
    const position = { partition, offset: message.offset };
    const update = paymentUpdateOf(envelope, position);
    const owner = await this.ownerOf(update.paymentId);
    const entry: RecentUpdate = { id: streamIdOf(position), update, owner, offset: BigInt(message.offset) };
    this.remember(entry);
    this.metrics.received.inc({ outcome: 'fanned_out' });
    this.wake(update.paymentId, update);
    for (const subscriber of this.subscribers) {
      if (!visibleTo(subscriber.viewer, owner)) continue;
      subscriber.deliver({ id: entry.id, update });
      this.metrics.delivered.inc({ transport: subscriber.transport });
    }
  }

  private wake(paymentId: string, update: PaymentUpdate | undefined): void {
    for (const waiter of [...(this.waiters.get(paymentId) ?? [])]) {
      // A long-poll that gave `after` waits for a newer version than the one it has.
      if (update !== undefined && waiter.after !== undefined && BigInt(update.version) <= waiter.after) continue;
      waiter.resolve(update);
    }
  }

  private remember(entry: RecentUpdate): void {
    this.recent.push(entry);
    this.recentEventIds.add(entry.update.eventId);
    if (this.recent.length > RECENT_CAPACITY) this.recentEventIds.delete(this.recent.shift()!.update.eventId);
  }

  private latestAfter(paymentId: string, after: bigint): PaymentUpdate | undefined {
    for (let index = this.recent.length - 1; index >= 0; index -= 1) {
      const entry = this.recent[index]!;
      if (entry.update.paymentId === paymentId) return entry.offset > after ? entry.update : undefined;
    }
    return undefined;
  }

  /** Null when no client owns the payment (sent straight to Kafka) or Redis did not answer: only analysts hear it. */
  private async ownerOf(paymentId: string): Promise<string | null> {
    const cached = this.owners.get(paymentId);
    if (cached !== undefined) return cached;
    let owner: string | null;
    try {
      owner = await this.ownership.ownerOf('payment', paymentId);
    } catch (error) {
      this.logger.warn({ err: error, paymentId }, 'payment updates: owner unknown (Redis); the update goes to analysts only');
      return null;
    }
    if (owner !== null) {
      this.owners.set(paymentId, owner);
      if (this.owners.size > OWNER_CACHE_CAPACITY) this.owners.delete(this.owners.keys().next().value!);
    }
    return owner;
  }
}

function visibleTo(viewer: Viewer, owner: string | null): boolean {
  return viewer.role === 'analyst' || viewer.client === owner;
}

function unavailable(detail: string): ProblemException {
  return new ProblemException(503, 'push-unavailable', 'Updates unavailable', detail);
}
