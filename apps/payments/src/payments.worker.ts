import { Injectable } from '@nestjs/common';
import { Topics } from '@clearline/contracts';
import { DATABASE_BOUND_GROUP_TIMING, type MessageHandler } from '@clearline/messaging';
import { MessagingFactory, ServiceWorker } from '@clearline/service-runtime';
import { PaymentProcessor } from './payment-processor.js';
import { SETTLEMENT_MESSAGE_TYPES, SettlementHandler } from './settlement-handler.js';
import { merchantOfSettlementStream, SETTLEMENT_CATEGORY } from './settlement-naming.js';

/**
 * Channel commands, and the answers that move payments on (risk's, the ledger's), are handled from
 * several partitions at once, each in its own chunk transaction (the pool has room: DEFAULT_POOL_MAX).
 * A message is a handful of round trips to PostgreSQL, so a partition at a time is latency-bound, not
 * CPU-bound: one partition capped the platform at ~25-30 payments/s with CPU idle, and three partitions
 * of the answers' six collapsed at 60/s (payments declined `risk_timeout` while risk had answered in
 * 0.2 s). The answers are handled from all six partitions of risk.events and ledger.events at once.
 * Commands for one payment share a partition (keyed by payment id), so they stay in order. Two answers
 * of one payment rarely meet (each answers payments' previous step); when they do, the stream's
 * expected version refuses the second append and its chunk is handled again.
 */
const COMMAND_PARTITIONS_IN_PARALLEL = 3;
const ANSWER_PARTITIONS_IN_PARALLEL = 6;

/**
 * Three consumer groups: channel commands, the risk and ledger events the payment process waits for
 * (kept apart so a burst of new payments never queues behind the answers that finish old ones), and
 * settlement, which counts payments' own PaymentCaptured / PaymentRefunded into batches. Their handlers
 * only touch PostgreSQL (provider calls run in ConnectorExecutor, outside any handler), so a crashed
 * instance's partitions move after 10 s (DATABASE_BOUND_GROUP_TIMING). Two relays:
 * payment streams keyed by stream, settlement batch streams keyed by merchant (ordered per merchant).
 */
@Injectable()
export class PaymentsWorker extends ServiceWorker {
  constructor(processor: PaymentProcessor, settlement: SettlementHandler, messaging: MessagingFactory) {
    // CloseSettlementBatch arrives with the commands, the payout's answer with the ledger's events.
    const handle: MessageHandler = (envelope, context) =>
      SETTLEMENT_MESSAGE_TYPES.has(envelope.type) ? settlement.handle(envelope, context.client) : processor.handle(envelope, context);
    const settle: MessageHandler = (envelope, context) =>
      envelope.type === 'PaymentCaptured' || envelope.type === 'PaymentRefunded' ? settlement.handle(envelope, context.client) : Promise.resolve();
    super(
      [
        messaging.consumer({ groupId: 'payments-commands', topics: [Topics.paymentsCommands], handle, partitionsConsumedConcurrently: COMMAND_PARTITIONS_IN_PARALLEL, ...DATABASE_BOUND_GROUP_TIMING }),
        messaging.consumer({ groupId: 'payments-process', topics: [Topics.riskEvents, Topics.ledgerEvents], handle, partitionsConsumedConcurrently: ANSWER_PARTITIONS_IN_PARALLEL, ...DATABASE_BOUND_GROUP_TIMING }),
        messaging.consumer({ groupId: 'payments-settlement', topics: [Topics.paymentsEvents], handle: settle, ...DATABASE_BOUND_GROUP_TIMING }),
      ],
      [
        messaging.relay({ name: 'payments', categories: ['payment'] }),
        messaging.relay({ name: 'payments-settlement', categories: [SETTLEMENT_CATEGORY], key: (event) => merchantOfSettlementStream(event.streamId) }),
      ],
    );
  }
}
