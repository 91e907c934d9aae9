import { Inject, Injectable } from '@nestjs/common';
import { canonicalJson, deriveMessageId, type ContractEnvelope, type MessageEnvelope } from '@clearline/contracts';
import { aggregateStream, PostgresEventStore } from '@clearline/event-store';
import { PermanentMessageError } from '@clearline/messaging';
import {
  decidePayment, decidePaymentProcess, evolvePayment, initialPaymentState, PAYMENT_EVENT_TYPES, PaymentStateError,
  type PaymentCommand, type PaymentEvent, type PaymentState, type ProcessContext, type ProcessInput,
} from '@clearline/payments-domain';
import { eventsCausedBy, LOGGER, type Logger } from '@clearline/service-runtime';
import type { PoolClient } from 'pg';

const PRODUCER = 'payments';
/** A bound on the chain input -> command -> event -> command within one message; the lifecycle needs 2. */
const MAX_REACTIONS_PER_MESSAGE = 8;

/**
 * Runs the payment aggregate and its process manager for one incoming message. The resulting
 * payment events and the commands the process sends to the ledger are appended together to the
 * payment's stream (as Emmett's workflows record their outputs), with the version it read; the
 * outbox relay then publishes both. A crash anywhere loses nothing: the inbox, the expected
 * version and derived message ids make a redelivery produce exactly the same result once.
 */
@Injectable()
export class PaymentProcessor {
  constructor(
    private readonly store: PostgresEventStore,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async handle(envelope: ContractEnvelope, client: PoolClient): Promise<void> {
    switch (envelope.type) {
      case 'RequestPayment':
        return this.run(envelope.data.paymentId, envelope, client, () => [{ type: 'RequestPayment', data: envelope.data, now: new Date().toISOString() }], repeatedRequestGuard(envelope));
      case 'RiskAssessed':
      case 'HoldPlaced':
      case 'HoldRejected':
      case 'HoldCaptured':
      case 'CaptureRejected': {
        const input = { type: envelope.type, data: envelope.data } as ProcessInput;
        return this.run(envelope.data.paymentId, envelope, client, (state, context) => this.reactTo(input, state, context).commands);
      }
      default:
        // Other events on the topics payments reads (accounts, transfers) are not about payments.
        return;
    }
  }

  private async run(
    paymentId: string,
    cause: MessageEnvelope,
    client: PoolClient,
    firstCommands: (state: PaymentState, context: ProcessContext) => PaymentCommand[],
    guard?: (state: PaymentState) => boolean,
  ): Promise<void> {
    const streamId = `payment-${paymentId}`;
    const loaded = await aggregateStream<PaymentState, PaymentEvent>(this.store, streamId, {
      initialState: initialPaymentState,
      evolve: evolvePayment,
      accepts: (type) => PAYMENT_EVENT_TYPES.has(type),
      client,
    });
    if (guard && !guard(loaded.state)) return;
    const context: ProcessContext = { newHoldId: deriveMessageId(cause.id, 'hold'), now: new Date().toISOString() };
    const records = this.decideAll(firstCommands(loaded.state, context), loaded.state, context, cause);
    if (records.length === 0) return;
    await this.store.appendToStream(streamId, eventsCausedBy(cause, PRODUCER, streamId, records, new Date()), { expectedVersion: loaded.version, client });
    this.logger.info({ paymentId, recorded: records.map((record) => record.type), correlationId: cause.metadata.correlationId }, 'payment advanced');
  }

  /** Applies the commands to the aggregate and lets the process react to each new event, bounded. */
  private decideAll(commands: PaymentCommand[], initial: PaymentState, context: ProcessContext, cause: MessageEnvelope): { type: string; data: unknown }[] {
    const records: { type: string; data: unknown }[] = [];
    const queue = [...commands];
    let state = initial;
    for (let step = 0; queue.length > 0; step += 1) {
      if (step >= MAX_REACTIONS_PER_MESSAGE) throw new Error(`payment process did not settle within ${MAX_REACTIONS_PER_MESSAGE} steps`);
      const command = queue.shift()!;
      let events: PaymentEvent[];
      try {
        events = decidePayment(command, state);
      } catch (error) {
        if (error instanceof PaymentStateError) throw new PermanentMessageError(`${cause.type} ${cause.id}: ${error.message}`);
        throw error;
      }
      for (const event of events) {
        state = evolvePayment(state, event);
        records.push(event);
        const reaction = this.reactTo(event, state, context);
        queue.push(...reaction.commands);
        records.push(...reaction.ledgerCommands);
      }
    }
    return records;
  }

  private reactTo(input: ProcessInput, state: PaymentState, context: ProcessContext): { commands: PaymentCommand[]; ledgerCommands: { type: string; data: unknown }[] } {
    const outputs = decidePaymentProcess(input, state, context);
    return {
      commands: outputs.flatMap((output) => (output.target === 'payment' ? [output.command] : [])),
      ledgerCommands: outputs.flatMap((output) => (output.target === 'ledger' ? [output.command] : [])),
    };
  }
}

/** A RequestPayment for a payment that exists is a repeat when it asks for the same thing; else a conflict. */
function repeatedRequestGuard(envelope: Extract<ContractEnvelope, { type: 'RequestPayment' }>): (state: PaymentState) => boolean {
  return (state) => {
    if (state.status === 'initial') return true;
    const { requestedAt: _requestedAt, ...stored } = state.payment;
    if (canonicalJson(stored) === canonicalJson(envelope.data)) return false;
    throw new PermanentMessageError(`payment ${envelope.data.paymentId} already exists with different details`);
  };
}
