import { Inject, Injectable } from '@nestjs/common';
import { canonicalJson, deriveMessageId, type ContractEnvelope, type MessageEnvelope } from '@clearline/contracts';
import { aggregateStream, PostgresEventStore, WrongExpectedVersionError, type AggregatedStream, type AppendResult } from '@clearline/event-store';
import { PermanentMessageError } from '@clearline/messaging';
import {
  decidePayment, decidePaymentProcess, evolvePayment, initialPaymentState, PAYMENT_EVENT_TYPES, PaymentStateError,
  type CallConnectorData, type ConnectorCallCompletedData, type PaymentCommand, type PaymentEvent, type PaymentLifecycleCommand, type PaymentState, type PaymentTimeouts, type ProcessContext,
  type ProcessInput, type ProcessOutput, type TimerCommand,
} from '@clearline/payments-domain';
import { eventsCausedBy, LOGGER, type Logger } from '@clearline/service-runtime';
import type { Pool, PoolClient } from 'pg';
import { deleteConnectorCall, lockConnectorCall, type ClaimedConnectorCall } from './connector-call-tables.js';
import { BoundedCache } from './bounded-cache.js';
import { PaymentHoldIndex } from './payment-hold-index.js';
import { completeTimeout, recordDecisionRows } from './payment-tables.js';
import { PAYMENT_TIMEOUTS } from './payments.tokens.js';

const PRODUCER = 'payments';
/** A bound on the chain input -> command -> event -> command within one message; the lifecycle needs 3. */
const MAX_REACTIONS_PER_MESSAGE = 8;

/**
 * What one message decided: records for the payment stream (events, ledger commands, connector
 * calls), timers, alerts, and what to log about refused commands once the decision stands.
 */
interface Decision {
  records: { type: string; data: unknown }[];
  timers: TimerCommand[];
  calls: CallConnectorData[];
  alerts: { reasonCode: string; detail: string }[];
  refusals: { level: 'info' | 'warn'; fields: Record<string, unknown>; message: string }[];
}

/** The transaction a message is handled in; `afterCommit` runs a callback once it has committed, if the caller can tell. */
export interface PaymentTransaction {
  client: PoolClient;
  afterCommit?: (callback: () => void) => void;
}

type LoadedPayment = AggregatedStream<PaymentState>;

/** Payment states remembered at most (a few KB each at worst); payments in flight are a small fraction of them. */
const REMEMBERED_PAYMENTS = 10_000;

/** Attempts to record a connector call's result when another writer appended to the payment meanwhile. */
const MAX_COMPLETION_ATTEMPTS = 5;

/** How the first commands of a message are found: from the state, and what to do when the payment refuses one. */
interface Start {
  commands: (state: PaymentState, context: ProcessContext) => PaymentCommand[];
  /** A channel's command is answered with PaymentCommandRejected; an answer from risk, the ledger or a timer that no longer applies is ignored. */
  onRefusal: 'record' | 'ignore';
  guard?: (state: PaymentState) => boolean;
}

/**
 * Runs the Payment aggregate and its process manager for one incoming message. The resulting payment
 * events and the commands the process sends to the ledger are appended together to the payment's
 * stream (as Emmett's workflows record their outputs), with the version it read; the outbox relay
 * then publishes both. Timers and the hold -> payment index are written in the same transaction.
 * A crash anywhere loses nothing: the inbox, the expected version and derived message ids make a
 * redelivery produce exactly the same result once; the state is the stream, so a restart goes on
 * from where the payment is.
 */
@Injectable()
export class PaymentProcessor {
  private readonly holdIndex = new PaymentHoldIndex();
  /**
   * Each payment's state as of the last version this process committed to its stream, so the next
   * message about it needs no read of the stream: the append's expected version proves the state
   * still current (another writer appending meanwhile fails it, and the message is decided again on
   * the stream as stored). Only committed versions are remembered (see run).
   */
  private readonly payments = new BoundedCache<string, LoadedPayment>(REMEMBERED_PAYMENTS);

  constructor(
    private readonly store: PostgresEventStore,
    @Inject(PAYMENT_TIMEOUTS) private readonly timeouts: PaymentTimeouts,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async handle(envelope: ContractEnvelope, transaction: PaymentTransaction): Promise<void> {
    const { client } = transaction;
    switch (envelope.type) {
      case 'RequestPayment':
        return this.run(envelope.data.paymentId, envelope, transaction, {
          commands: (_state, context) => [{ type: 'RequestPayment', data: envelope.data, now: context.now }],
          onRefusal: 'record',
          guard: repeatedRequestGuard(envelope),
        });
      case 'CapturePayment':
      case 'VoidPayment':
      case 'RefundPayment':
      case 'ReviewPayment':
        return this.run(envelope.data.paymentId, envelope, transaction, {
          commands: (_state, context) => [lifecycleCommandOf(envelope, context)],
          onRefusal: 'record',
        });
      case 'FirePaymentTimeout': {
        const { paymentId, wait, deadlineId, attempt } = envelope.data;
        await completeTimeout(client, paymentId, deadlineId, attempt);
        return this.react(paymentId, { type: 'PaymentTimeoutElapsed', data: { wait, deadlineId, attempt } }, envelope, transaction);
      }
      case 'RiskAssessed':
      case 'HoldPlaced':
      case 'HoldRejected':
      case 'HoldCaptured':
      case 'CaptureRejected':
        return this.react(envelope.data.paymentId, { type: envelope.type, data: envelope.data } as ProcessInput, envelope, transaction);
      case 'HoldVoided':
      case 'HoldExpired':
        return this.reactForHold(envelope.data.holdId, { type: envelope.type, data: envelope.data } as ProcessInput, envelope, transaction);
      case 'TransferReversed':
      case 'TransferReversalRejected':
        // A refund reverses the payment's captured hold, named by its id.
        return this.reactForHold(envelope.data.originalTransferId, { type: envelope.type, data: envelope.data } as ProcessInput, envelope, transaction);
      case 'TransferPosted':
      case 'TransferRejected':
        // External rails book captures and refunds as transfers; the index knows the ones payments asked for.
        return this.reactForHold(envelope.data.transferId, { type: envelope.type, data: envelope.data } as ProcessInput, envelope, transaction);
      default:
        // Other messages on the topics payments reads (accounts, transfers) are not about payments.
        return;
    }
  }

  /**
   * Records a connector call's result on its payment (every attempt, and what the process makes of
   * it) and deletes the call's row, in one transaction of its own; a call whose row is gone was
   * recorded by an earlier run and is left alone. Another writer appending to the payment meanwhile
   * makes it decide again on the new state (bounded).
   */
  async completeConnectorCall(pool: Pool, claimed: ClaimedConnectorCall, completed: ConnectorCallCompletedData): Promise<void> {
    const { call } = claimed;
    const cause: MessageEnvelope = {
      id: deriveMessageId(call.callId, 'completed'),
      type: 'ConnectorCallCompleted',
      schemaVersion: 1,
      data: { paymentId: call.paymentId },
      metadata: { correlationId: claimed.correlationId, causationId: call.callId, occurredAt: new Date().toISOString(), producer: PRODUCER },
    };
    for (let attempt = 1; ; attempt += 1) {
      const client = await pool.connect();
      try {
        await client.query('begin');
        const committed: (() => void)[] = [];
        if (await lockConnectorCall(client, call.callId)) {
          await this.react(call.paymentId, { type: 'ConnectorCallCompleted', data: completed }, cause, { client, afterCommit: (callback) => committed.push(callback) });
          await deleteConnectorCall(client, call.callId);
        }
        // A transaction a failed statement aborted answers COMMIT with ROLLBACK: then nothing is remembered.
        const { command } = await client.query('commit');
        if (command === 'COMMIT') for (const callback of committed) callback();
        return;
      } catch (error) {
        await client.query('rollback').catch(() => undefined);
        if (!(error instanceof WrongExpectedVersionError) || attempt >= MAX_COMPLETION_ATTEMPTS) throw error;
      } finally {
        client.release();
      }
    }
  }

  private async reactForHold(holdId: string, input: ProcessInput, cause: MessageEnvelope, transaction: PaymentTransaction): Promise<void> {
    const paymentId = await this.holdIndex.paymentOf(transaction.client, holdId);
    // Holds and transfers no payment asked for (a channel's own, an operator's) are not ours.
    if (paymentId === undefined) return;
    return this.react(paymentId, input, cause, transaction);
  }

  private react(paymentId: string, input: ProcessInput, cause: MessageEnvelope, transaction: PaymentTransaction): Promise<void> {
    return this.run(paymentId, cause, transaction, { commands: () => [], onRefusal: 'ignore' }, input);
  }

  /**
   * Decides on the remembered state when there is one and appends with its version; a decision
   * that appends nothing proves nothing about the state it was taken on, and one whose append finds
   * the stream moved on is void: both are taken again on the stream as stored.
   */
  private async run(paymentId: string, cause: MessageEnvelope, transaction: PaymentTransaction, start: Start, input?: ProcessInput): Promise<void> {
    const streamId = `payment-${paymentId}`;
    const context: ProcessContext = { newHoldId: deriveMessageId(cause.id, 'hold'), now: new Date().toISOString(), timeouts: this.timeouts };
    const remembered = this.payments.get(streamId);
    if (remembered !== undefined) {
      const decision = this.decideOrNothing(remembered, cause, start, context, input);
      if (decision !== undefined && decision.records.length > 0) {
        try {
          await this.record(streamId, paymentId, remembered, decision, cause, transaction);
          return;
        } catch (error) {
          // append_events reports a moved stream without failing the statement: the transaction goes on.
          if (!(error instanceof WrongExpectedVersionError)) throw error;
          this.payments.delete(streamId);
        }
      }
    }
    const loaded = await aggregateStream<PaymentState, PaymentEvent>(this.store, streamId, {
      initialState: initialPaymentState,
      evolve: evolvePayment,
      accepts: isPaymentEvent,
      client: transaction.client,
    });
    const decision = this.decide(loaded, cause, start, context, input);
    if (decision !== undefined) await this.record(streamId, paymentId, loaded, decision, cause, transaction);
  }

  /** The decision on `loaded`, or undefined when the guard finds nothing to do. */
  private decide(loaded: LoadedPayment, cause: MessageEnvelope, start: Start, context: ProcessContext, input: ProcessInput | undefined): Decision | undefined {
    if (start.guard && !start.guard(loaded.state)) return undefined;
    const decision: Decision = { records: [], timers: [], calls: [], alerts: [], refusals: [] };
    const commands = start.commands(loaded.state, context);
    if (input !== undefined) commands.push(...this.route(decidePaymentProcess(input, loaded.state, context), decision));
    this.decideAll(commands, loaded.state, context, cause, start.onRefusal, decision);
    return decision;
  }

  /** decide() on a remembered state: what it throws is decided again on the stream as stored, which throws it if it still applies. */
  private decideOrNothing(remembered: LoadedPayment, cause: MessageEnvelope, start: Start, context: ProcessContext, input: ProcessInput | undefined): Decision | undefined {
    try {
      return this.decide(remembered, cause, start, context, input);
    } catch {
      return undefined;
    }
  }

  /**
   * Appends the decision with the version it was taken on, writes its rows, and, once the
   * transaction has committed, remembers the payment's state as a read of the stream would build it.
   */
  private async record(streamId: string, paymentId: string, loaded: LoadedPayment, decision: Decision, cause: MessageEnvelope, transaction: PaymentTransaction): Promise<void> {
    const { client } = transaction;
    const correlationId = cause.metadata.correlationId;
    let appended: AppendResult | undefined;
    if (decision.records.length > 0) {
      appended = await this.store.appendToStream(streamId, eventsCausedBy(cause, PRODUCER, streamId, decision.records, new Date()), { expectedVersion: loaded.version, client });
    }
    const holdIds = holdsAskedFor(decision.records);
    await recordDecisionRows(client, paymentId, correlationId, { holdIds, timers: decision.timers, calls: decision.calls });
    this.holdIndex.remember(paymentId, holdIds);
    for (const alert of decision.alerts) this.logger.error({ paymentId, ...alert, correlationId }, 'payment needs an operator');
    for (const refusal of decision.refusals) this.logger[refusal.level](refusal.fields, refusal.message);
    if (appended === undefined) return;
    if (appended.alreadyAppended || transaction.afterCommit === undefined) {
      this.payments.delete(streamId);
    } else {
      const stored: LoadedPayment = { state: storedStateAfter(loaded.state, decision.records), version: appended.nextExpectedVersion };
      transaction.afterCommit(() => this.remember(streamId, stored));
    }
    // Per message, so at debug: at info it was a log line per message on the platform's busiest path.
    this.logger.debug({ paymentId, recorded: decision.records.map((record) => record.type), correlationId }, 'payment advanced');
  }

  /**
   * Remembers a committed state unless a later one is remembered already: the two consumers of this
   * process may commit to the same payment one after the other, and their callbacks must not undo that.
   */
  private remember(streamId: string, stored: LoadedPayment): void {
    const current = this.payments.get(streamId);
    if (current === undefined || isBefore(current.version, stored.version)) this.payments.set(streamId, stored);
  }

  /** Applies the commands to the aggregate and lets the process react to each new event, bounded. */
  private decideAll(commands: PaymentCommand[], initial: PaymentState, context: ProcessContext, cause: MessageEnvelope, onRefusal: Start['onRefusal'], decision: Decision): void {
    const queue = [...commands];
    let state = initial;
    for (let step = 0; queue.length > 0; step += 1) {
      if (step >= MAX_REACTIONS_PER_MESSAGE) throw new Error(`payment process did not settle within ${MAX_REACTIONS_PER_MESSAGE} steps`);
      const command = queue.shift()!;
      let events: PaymentEvent[];
      try {
        events = decidePayment(command, state);
      } catch (error) {
        if (!(error instanceof PaymentStateError)) throw error;
        events = this.refused(command, error, state, cause, step === 0 ? onRefusal : 'ignore', decision);
      }
      for (const event of events) {
        state = evolvePayment(state, event);
        decision.records.push(event);
        queue.push(...this.route(decidePaymentProcess(event, state, context), decision));
      }
    }
  }

  /** A refused command: the caller hears why (a channel's), or it is logged (a late answer the process let through). */
  private refused(command: PaymentCommand, error: PaymentStateError, state: PaymentState, cause: MessageEnvelope, onRefusal: Start['onRefusal'], decision: Decision): PaymentEvent[] {
    const log = { command: command.type, status: state.status, reasonCode: error.reasonCode, correlationId: cause.metadata.correlationId };
    if (command.type === 'RequestPayment') throw new PermanentMessageError(`${cause.type} ${cause.id}: ${error.message}`);
    if (onRefusal === 'ignore' || !isLifecycle(command)) {
      decision.refusals.push({ level: 'warn', fields: { ...log, err: error.message }, message: 'payment command no longer applies; ignored' });
      return [];
    }
    decision.refusals.push({ level: 'info', fields: { ...log, commandId: command.data.commandId }, message: 'payment command refused' });
    const paymentId = (cause.data as { paymentId: string }).paymentId;
    return [{
      type: 'PaymentCommandRejected',
      data: { paymentId, commandId: command.data.commandId, commandType: command.type, reasonCode: error.reasonCode, status: state.status, detail: error.message.slice(0, 500) },
    }];
  }

  /** Splits the process's outputs: payment commands are returned to be decided next, the rest is collected. */
  private route(outputs: ProcessOutput[], decision: Decision): PaymentCommand[] {
    const commands: PaymentCommand[] = [];
    for (const output of outputs) {
      switch (output.target) {
        case 'payment':
          commands.push(output.command);
          break;
        case 'ledger':
          decision.records.push(output.command);
          break;
        case 'timer':
          decision.timers.push(output.command);
          break;
        case 'operator':
          decision.alerts.push(output.alert);
          break;
        case 'connector':
          // Recorded on the stream (what was asked, for the audit trail) and as a row the executor runs.
          decision.records.push({ type: 'CallConnector', data: output.call });
          decision.calls.push(output.call);
          break;
        default: {
          const unreachable: never = output;
          throw new Error(`unknown process output ${JSON.stringify(unreachable)}`);
        }
      }
    }
    return commands;
  }
}

const LIFECYCLE_TYPES: ReadonlySet<string> = new Set<PaymentLifecycleCommand['type']>(['CapturePayment', 'VoidPayment', 'RefundPayment', 'ReviewPayment']);

function isLifecycle(command: PaymentCommand): command is PaymentLifecycleCommand {
  return LIFECYCLE_TYPES.has(command.type);
}

function lifecycleCommandOf(
  envelope: Extract<ContractEnvelope, { type: 'CapturePayment' | 'VoidPayment' | 'RefundPayment' | 'ReviewPayment' }>,
  context: ProcessContext,
): PaymentLifecycleCommand {
  switch (envelope.type) {
    case 'CapturePayment':
      return { type: 'CapturePayment', data: { commandId: envelope.data.commandId, ...(envelope.data.amount ? { amount: envelope.data.amount } : {}) } };
    case 'VoidPayment':
      return { type: 'VoidPayment', data: { commandId: envelope.data.commandId } };
    case 'RefundPayment':
      return { type: 'RefundPayment', data: { commandId: envelope.data.commandId, refundId: envelope.data.refundId, amount: envelope.data.amount } };
    case 'ReviewPayment': {
      const { commandId, decision, reviewerId } = envelope.data;
      return { type: 'ReviewPayment', data: { commandId, decision, holdId: context.newHoldId, ...(reviewerId ? { reviewerId } : {}) }, now: context.now };
    }
    default: {
      const unreachable: never = envelope;
      return unreachable;
    }
  }
}

/**
 * The holds and transfers this decision asks the ledger for (an external rail's bookings): the index
 * must know them before the ledger answers.
 */
function holdsAskedFor(records: readonly { type: string; data: unknown }[]): string[] {
  return records.flatMap((record) => {
    if (record.type === 'PaymentAuthorizationStarted') return [(record.data as { holdId: string }).holdId];
    if (record.type === 'PostTransfer') return [(record.data as { transferId: string }).transferId];
    return [];
  });
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

function isBefore(version: bigint | 'no_stream', other: bigint | 'no_stream'): boolean {
  return other !== 'no_stream' && (version === 'no_stream' || version < other);
}

function isPaymentEvent(type: string): boolean {
  return PAYMENT_EVENT_TYPES.has(type);
}

/**
 * The state a read of the stream would build after the decision's records: only payment events are
 * evolved (as aggregateStream's accepts does), each as it comes back from jsonb (no undefined
 * properties), so a remembered state is the stored one.
 */
function storedStateAfter(state: PaymentState, records: readonly { type: string; data: unknown }[]): PaymentState {
  let stored = state;
  for (const record of records) {
    if (isPaymentEvent(record.type)) stored = evolvePayment(stored, { type: record.type, data: JSON.parse(JSON.stringify(record.data)) } as PaymentEvent);
  }
  return stored;
}
