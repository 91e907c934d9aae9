import { Inject, Injectable } from '@nestjs/common';
import {
  canonicalJson, deriveMessageId, type ContractEnvelope, type DataOf, type OpenAccountData, type PaymentRequestedData, type SettlementCloseReason,
} from '@clearline/contracts';
import { aggregateStream, PostgresEventStore, type NewEvent, type RecordedEvent } from '@clearline/event-store';
import { PermanentMessageError } from '@clearline/messaging';
import { moneyFromMinor } from '@clearline/money';
import {
  decideSettlementBatch, evolveSettlementBatch, initialSettlementBatchState, SETTLEMENT_BATCH_EVENT_TYPES, SettlementBatchError,
  settlementLedgerCommand, settlementPublications, settlementTransferIds,
  type ClosedSettlementBatchState, type SettlementBatchCommand, type SettlementBatchEvent, type SettlementBatchState,
} from '@clearline/payments-domain';
import { eventsCausedBy, LOGGER, type Logger } from '@clearline/service-runtime';
import type { PoolClient } from 'pg';
import { BoundedCache } from './bounded-cache.js';
import { settlementWindowEnd, type SettlementSettings } from './payments.config.js';
import { SETTLEMENT_SETTINGS } from './payments.tokens.js';
import {
  conventionalFeeRevenueAccountId, conventionalSettlementAccountId, settlementBatchId, settlementStreamId,
} from './settlement-naming.js';
import {
  batchById, batchOfLedgerBatch, batchOfLine, insertOpenBatch, lastBatchOf, lockSettlement, markBatchClosed, markPayoutAnswered,
  markPayoutAsked, openBatchOf, recordLine, settlementTerms, type SettlementBatchRow,
} from './settlement-tables.js';

const PRODUCER = 'payments';
/** The event store takes at most 10,000 events per append; a close of a full batch appends in parts. */
const MAX_EVENTS_PER_APPEND = 5_000;
/** Open batches whose state is remembered: one per merchant and currency with traffic (a batch of 100,000 lines is ~20 MB). */
const REMEMBERED_OPEN_BATCHES = 1_000;

/** The messages settlement handles, on the topics payments already reads or on its own consumer group. */
export const SETTLEMENT_MESSAGE_TYPES: ReadonlySet<string> = new Set([
  'PaymentCaptured', 'PaymentRefunded', 'CloseSettlementBatch', 'LinkedTransfersPosted', 'LinkedTransfersRejected',
]);

/** A line to count: a captured payment or a refund, at the time its event was recorded. */
type Line =
  | { kind: 'payment'; lineId: string; command: Extract<SettlementBatchCommand, { type: 'AddCapturedPayment' }> }
  | { kind: 'refund'; lineId: string; command: Extract<SettlementBatchCommand, { type: 'AddRefund' }> };

/** What caused a settlement write: the message handled, or the schedule. */
export interface SettlementCause {
  id: string;
  correlationId: string;
}

interface LoadedBatch {
  streamId: string;
  state: SettlementBatchState;
  version: bigint | 'no_stream';
  /** The correlation id each line arrived with (its payment's), carried on to its PaymentSettled / RefundSettled. */
  correlations: Map<string, string>;
  /** The id of the stream's last event as folded into `state`. */
  lastEventId: string | undefined;
}

/**
 * Feeds settlement batches (libs/payments-domain settlement-batch.ts) and closes them.
 *
 * - PaymentCaptured / PaymentRefunded (payments.events, consumer group `payments-settlement`) add a
 *   line to the open batch of the payment's merchant and currency, opening batch n + 1 (fee schedule
 *   in force, accounts, the last batch's carry-over) when there is none. A line already counted
 *   (payments.settlement_lines) goes to the batch that counted it, which answers it as done, even
 *   after that batch closed: a redelivery never counts twice.
 * - CloseSettlementBatch (payments.commands) and the scheduler close a batch: the close, one
 *   PaymentSettled v2 per payment, one RefundSettled per refund, SettlementBatchClosed, and the
 *   ledger's PostLinkedTransfers are appended to the batch stream in one transaction; the relay
 *   publishes them (keyed by merchant).
 * - LinkedTransfersPosted / LinkedTransfersRejected (ledger.events) record how the ledger answered the
 *   payout. A refusal is recorded on the batch stream and logged as an operator alert; the money
 *   stays on the merchant account until an operator fixes the cause and sends CloseSettlementBatch
 *   naming the batch, which asks for the payout again under new ids.
 *
 * Every write takes the settlement lock first (see lockSettlement) and runs in the caller's transaction.
 *
 * An open batch's state is remembered after each line, so the next line needs no read of the batch
 * stream, which grows with every line (reading it per line made a batch of n lines cost O(n^2)
 * events read). The remembered state is used only when the stream's last event, read under the lock,
 * is the one it was folded up to: a line whose transaction rolled back, or another instance's line,
 * makes it differ, and the batch is read again. Event ids are unique, so equal heads mean equal streams.
 */
@Injectable()
export class SettlementHandler {
  private readonly openBatches = new BoundedCache<string, LoadedBatch>(REMEMBERED_OPEN_BATCHES);

  constructor(
    private readonly store: PostgresEventStore,
    @Inject(SETTLEMENT_SETTINGS) private readonly settings: SettlementSettings,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async handle(envelope: ContractEnvelope, client: PoolClient): Promise<void> {
    switch (envelope.type) {
      case 'PaymentCaptured': {
        const { paymentId, amount } = envelope.data;
        const money = moneyFromMinor(amount.amountMinor, amount.currency);
        return this.addLine({ kind: 'payment', lineId: paymentId, command: { type: 'AddCapturedPayment', data: { paymentId, amount: money, capturedAt: envelope.metadata.occurredAt } } }, envelope, client);
      }
      case 'PaymentRefunded': {
        const { paymentId, refundId, amount } = envelope.data;
        const money = moneyFromMinor(amount.amountMinor, amount.currency);
        return this.addLine({ kind: 'refund', lineId: refundId, command: { type: 'AddRefund', data: { paymentId, refundId, amount: money, refundedAt: envelope.metadata.occurredAt } } }, envelope, client);
      }
      case 'CloseSettlementBatch':
        return this.closeOnDemand(envelope.data, { id: envelope.id, correlationId: envelope.metadata.correlationId }, client);
      case 'LinkedTransfersPosted':
      case 'LinkedTransfersRejected':
        return this.recordPayout(envelope, client);
      default:
        return;
    }
  }

  // ---------------------------------------------------------------- lines

  private async addLine(line: Line, cause: ContractEnvelope, client: PoolClient): Promise<void> {
    await lockSettlement(client);
    const counted = await batchOfLine(client, line.kind, line.lineId);
    if (counted) return this.repeat(line, counted, client);
    const payment = await this.paymentOf(line.command.data.paymentId, client, cause);
    const currency = line.command.data.amount.currency;
    const open = await openBatchOf(client, payment.merchantId, currency);
    const loaded = open ? await this.loadOpen(open, client) : await this.opening(payment, currency, cause, client);
    if (loaded.state.status === 'open' && loaded.state.batch.accounts.merchantAccountId !== payment.merchantAccountId) {
      // A batch pays out from one merchant account: a payment that credited another cannot be settled from it.
      this.logger.error({ paymentId: payment.paymentId, merchantId: payment.merchantId, batchAccount: loaded.state.batch.accounts.merchantAccountId, paymentAccount: payment.merchantAccountId },
        'settlement line credited another merchant account than its batch pays out from; dead-lettered for an operator');
      throw new PermanentMessageError(`${line.kind} ${line.lineId}: merchant account ${payment.merchantAccountId} is not the batch's ${loaded.state.batch.accounts.merchantAccountId}`);
    }
    let target = loaded;
    let events = decideLine(line, target);
    if (events === 'batch_full' && target.state.status === 'open') {
      // MAX_SETTLEMENT_BATCH_LINES reached: close this batch on demand and count the line in the next.
      await this.close(target, 'on_demand', { id: cause.id, correlationId: cause.metadata.correlationId }, client);
      target = await this.opening(payment, currency, cause, client);
      events = decideLine(line, target);
    }
    if (events === 'batch_full' || target.state.status === 'initial') throw new Error(`settlement batch for ${payment.merchantId} in ${currency} cannot take ${line.kind} ${line.lineId}`);
    const appended = eventsCausedBy(cause, PRODUCER, target.streamId, events, new Date());
    const { alreadyAppended } = await this.append(target, appended, client);
    await recordLine(client, line.kind, line.lineId, target.state.batch.batchId);
    if (alreadyAppended) {
      this.openBatches.delete(target.streamId);
      return;
    }
    target.correlations.set(`${line.kind}:${line.lineId}`, cause.metadata.correlationId);
    this.openBatches.set(target.streamId, {
      streamId: target.streamId, state: events.reduce(evolveSettlementBatch, target.state), version: target.version, correlations: target.correlations,
      lastEventId: appended.at(-1)?.id ?? target.lastEventId,
    });
  }

  /**
   * The open batch as remembered when the stream's last event is the one the state was folded up to,
   * else as read. A copy: the caller's append advances its version. The correlations map is shared:
   * an entry left by a line that rolled back names a line the state does not hold, and the line's
   * redelivery sets the same value again.
   */
  private async loadOpen(row: SettlementBatchRow, client: PoolClient): Promise<LoadedBatch> {
    const streamId = settlementStreamId(row.merchantId, row.currency, row.batchNo);
    const remembered = this.openBatches.get(streamId);
    if (remembered !== undefined) {
      const [head] = await this.store.readStream(streamId, { direction: 'backwards', maxCount: 1, client });
      if (head !== undefined && head.id === remembered.lastEventId && head.streamVersion === remembered.version) return { ...remembered };
      this.openBatches.delete(streamId);
    }
    return this.load(row, client);
  }

  /** A line some batch already counted: that batch decides (a repeat is [], another amount is refused). */
  private async repeat(line: Line, counted: SettlementBatchRow, client: PoolClient): Promise<void> {
    const loaded = await this.load(counted, client);
    try {
      const events = decideSettlementBatch(line.command, loaded.state);
      if (events.length > 0) throw new Error(`batch ${counted.batchId} is recorded as counting ${line.kind} ${line.lineId} but its stream does not hold it`);
    } catch (error) {
      if (!(error instanceof SettlementBatchError)) throw error;
      this.logger.error({ kind: line.kind, lineId: line.lineId, batchId: counted.batchId, code: error.code }, 'settlement line repeated with another body; dead-lettered');
      throw new PermanentMessageError(`${line.kind} ${line.lineId}: ${error.message}`);
    }
    this.logger.info({ kind: line.kind, lineId: line.lineId, batchId: counted.batchId, batchStatus: counted.status }, 'settlement line already counted; not counted again');
  }

  /** Opens batch n + 1 of the merchant in the currency (in memory; appended with its first line). */
  private async opening(payment: PaymentRequestedData, currency: string, cause: ContractEnvelope, client: PoolClient): Promise<LoadedBatch> {
    const last = await lastBatchOf(client, payment.merchantId, currency);
    const batchNo = (last?.batchNo ?? 0) + 1;
    const batchId = settlementBatchId(payment.merchantId, currency, batchNo);
    const terms = await settlementTerms(client, payment.merchantId, currency);
    const accounts = {
      merchantAccountId: payment.merchantAccountId,
      settlementAccountId: terms.settlementAccountId ?? conventionalSettlementAccountId(payment.merchantId, currency),
      feeRevenueAccountId: terms.feeRevenueAccountId ?? conventionalFeeRevenueAccountId(currency),
    };
    const now = new Date();
    const command: SettlementBatchCommand = {
      type: 'OpenSettlementBatch',
      data: { batchId, merchantId: payment.merchantId, currency, batchNo, accounts, feeSchedule: terms.feeSchedule, carriedInMinor: last?.carriedForwardMinor ?? 0n, openedAt: now.toISOString() },
    };
    const streamId = settlementStreamId(payment.merchantId, currency, batchNo);
    let events: SettlementBatchEvent[];
    try {
      events = decideSettlementBatch(command, initialSettlementBatchState());
    } catch (error) {
      // A schedule out of bounds (InvalidFeeScheduleError) is a configuration fault: the line waits for it to be fixed.
      this.logger.error({ err: error, merchantId: payment.merchantId, currency }, 'cannot open a settlement batch; fix payments.settlement_terms');
      throw error;
    }
    const opened = events.reduce(evolveSettlementBatch, initialSettlementBatchState());
    await insertOpenBatch(client, { batchId, merchantId: payment.merchantId, currency, batchNo, openedAt: now.toISOString(), dueAt: settlementWindowEnd(now, this.settings.intervalMs).toISOString() });
    // The opening and the account openings are appended with the first line, under ids derived from the batch.
    const records = [...events, ...accountOpenings(payment.merchantId, currency, terms)];
    await this.store.appendToStream(streamId, records.map((record, index) => ({
      id: deriveMessageId(batchId, `opening#${index}`),
      type: record.type,
      data: record.data,
      metadata: { correlationId: cause.metadata.correlationId, causationId: cause.id, occurredAt: now.toISOString(), producer: PRODUCER },
    })), { expectedVersion: 'no_stream', client });
    this.logger.info({ batchId, merchantId: payment.merchantId, currency, batchNo, carriedInMinor: (last?.carriedForwardMinor ?? 0n).toString() }, 'settlement batch opened');
    return { streamId, state: opened, version: BigInt(records.length - 1), correlations: new Map(), lastEventId: deriveMessageId(batchId, `opening#${records.length - 1}`) };
  }

  // ---------------------------------------------------------------- closing

  private async closeOnDemand(data: DataOf<'CloseSettlementBatch'>, cause: SettlementCause, client: PoolClient): Promise<void> {
    await lockSettlement(client);
    const row = data.settlementBatchId === undefined
      ? await openBatchOf(client, data.merchantId, data.currency)
      : await batchById(client, data.settlementBatchId);
    if (row === undefined) {
      this.logger.info({ ...data }, 'CloseSettlementBatch: no such open batch; nothing to close');
      return;
    }
    if (row.merchantId !== data.merchantId || row.currency !== data.currency) {
      throw new PermanentMessageError(`settlement batch ${row.batchId} belongs to ${row.merchantId} in ${row.currency}, not ${data.merchantId} in ${data.currency}`);
    }
    if (row.status === 'closed') {
      if (row.payoutStatus === 'rejected') return this.askPayoutAgain(row, cause, client);
      this.logger.info({ batchId: row.batchId, commandId: data.commandId }, 'settlement batch already closed; nothing to do');
      return;
    }
    await this.close(await this.load(row, client), 'on_demand', cause, client);
  }

  /** Closes one due batch in the caller's transaction (the scheduler's): the cause is the schedule, ids derived from the batch. */
  async closeScheduled(batchId: string, client: PoolClient): Promise<boolean> {
    await lockSettlement(client);
    const row = await batchById(client, batchId);
    if (row === undefined || row.status !== 'open') return false;
    const causeId = deriveMessageId(batchId, 'close:schedule');
    await this.close(await this.load(row, client), 'schedule', { id: causeId, correlationId: causeId }, client);
    return true;
  }

  /**
   * Appends the close, every publication (PaymentSettled v2, RefundSettled, SettlementBatchClosed last)
   * and the ledger's PostLinkedTransfers to the batch stream, and marks the batch closed.
   */
  private async close(loaded: LoadedBatch, reason: SettlementCloseReason, cause: SettlementCause, client: PoolClient): Promise<void> {
    if (loaded.state.status !== 'open') return;
    const batchId = loaded.state.batch.batchId;
    const closedAt = new Date().toISOString();
    const events = decideSettlementBatch({ type: 'CloseSettlementBatch', data: { batchId, closedAt, reason } }, loaded.state);
    const closed = events.reduce(evolveSettlementBatch, loaded.state as SettlementBatchState);
    if (closed.status !== 'closed') throw new Error(`settlement batch ${batchId} did not close`);
    const metadata = (correlationId: string) => ({ correlationId, causationId: cause.id, occurredAt: closedAt, producer: PRODUCER });
    const stored: NewEvent[] = settlementPublications(closed).map((publication) => {
      const lineId = publication.type === 'PaymentSettled' ? `payment:${publication.data.paymentId}` : publication.type === 'RefundSettled' ? `refund:${publication.data.refundId}` : '';
      return { id: publication.id, type: publication.type, schemaVersion: publication.schemaVersion, data: publication.data, metadata: metadata(loaded.correlations.get(lineId) ?? cause.correlationId) };
    });
    const ledger = settlementLedgerCommand(closed);
    if (ledger) stored.push({ id: deriveMessageId(batchId, 'PostLinkedTransfers'), type: 'PostLinkedTransfers', schemaVersion: 1, data: ledger, metadata: metadata(cause.correlationId) });
    this.openBatches.delete(loaded.streamId);
    await this.append(loaded, stored, client);
    await markBatchClosed(client, batchId, { closedAt, carriedForwardMinor: BigInt(closed.closed.carriedForwardMinor), ledgerBatchId: ledger?.batchId });
    this.logger.info({ batchId, reason, merchantId: closed.batch.merchantId, currency: closed.batch.currency, netMinor: closed.closed.netMinor, feesMinor: closed.closed.feesMinor, carriedForwardMinor: closed.closed.carriedForwardMinor, correlationId: cause.correlationId }, 'settlement batch closed');
  }

  // ---------------------------------------------------------------- the ledger's answer to the payout

  private async recordPayout(envelope: Extract<ContractEnvelope, { type: 'LinkedTransfersPosted' | 'LinkedTransfersRejected' }>, client: PoolClient): Promise<void> {
    await lockSettlement(client);
    const row = await batchOfLedgerBatch(client, envelope.data.batchId);
    // Linked transfers no settlement asked for (a channel's splits) are not ours.
    if (row === undefined) return;
    const loaded = await this.load(row, client);
    const posted = envelope.type === 'LinkedTransfersPosted';
    const reasonCode = envelope.type === 'LinkedTransfersRejected' ? envelope.data.reasonCode : null;
    const record = posted
      ? { type: 'SettlementPayoutPosted', data: { batchId: row.batchId, ledgerBatchId: envelope.data.batchId } }
      : { type: 'SettlementPayoutRejected', data: { batchId: row.batchId, ledgerBatchId: envelope.data.batchId, reasonCode, failedTransferIndex: (envelope.data as DataOf<'LinkedTransfersRejected'>).failedTransferIndex } };
    await this.append(loaded, eventsCausedBy(envelope, PRODUCER, loaded.streamId, [record], new Date()), client);
    await markPayoutAnswered(client, row.batchId, posted ? 'posted' : 'rejected', reasonCode);
    if (posted) {
      this.logger.info({ batchId: row.batchId, ledgerBatchId: envelope.data.batchId }, 'settlement payout posted');
    } else {
      this.logger.error({ batchId: row.batchId, merchantId: row.merchantId, currency: row.currency, ledgerBatchId: envelope.data.batchId, reasonCode },
        'settlement payout refused by the ledger: the money stays on the merchant account; fix the cause and send CloseSettlementBatch naming the batch');
    }
  }

  /** The ledger refused the payout (its ids are spent on that refusal): ask again under ids of a new attempt. */
  private async askPayoutAgain(row: SettlementBatchRow, cause: SettlementCause, client: PoolClient): Promise<void> {
    const loaded = await this.load(row, client);
    if (loaded.state.status !== 'closed') throw new Error(`settlement batch ${row.batchId} is marked closed but its stream is not`);
    const closedState: ClosedSettlementBatchState = loaded.state;
    const attempt = row.payoutAttempt + 1;
    const first = settlementLedgerCommand(closedState);
    if (first === null) return;
    const ids = settlementTransferIds(deriveMessageId(row.batchId, `payout-attempt:${attempt}`));
    const legIds = [ids.netTransferId, ids.feeTransferId];
    const command = {
      batchId: ids.ledgerBatchId,
      transfers: first.transfers.map((leg) => ({ ...leg, transferId: leg.transferId === closedState.closed.netTransferId ? legIds[0]! : legIds[1]! })),
    };
    await this.append(loaded, [{
      id: deriveMessageId(row.batchId, `PostLinkedTransfers:${attempt}`), type: 'PostLinkedTransfers', schemaVersion: 1, data: command,
      metadata: { correlationId: cause.correlationId, causationId: cause.id, occurredAt: new Date().toISOString(), producer: PRODUCER },
    }], client);
    await markPayoutAsked(client, row.batchId, ids.ledgerBatchId, attempt);
    this.logger.warn({ batchId: row.batchId, attempt, ledgerBatchId: ids.ledgerBatchId }, 'settlement payout asked again after a refusal');
  }

  // ---------------------------------------------------------------- streams

  async load(row: Pick<SettlementBatchRow, 'merchantId' | 'currency' | 'batchNo'>, client: PoolClient): Promise<LoadedBatch> {
    const streamId = settlementStreamId(row.merchantId, row.currency, row.batchNo);
    const correlations = new Map<string, string>();
    let lastEventId: string | undefined;
    const loaded = await aggregateStream<SettlementBatchState, SettlementBatchEvent>(this.store, streamId, {
      initialState: initialSettlementBatchState,
      // Every event of the stream (the ledger commands and account openings too) moves its head.
      evolve: (state, event) => {
        const recorded = event as unknown as RecordedEvent;
        lastEventId = recorded.id;
        rememberCorrelation(correlations, recorded);
        return SETTLEMENT_BATCH_EVENT_TYPES.has(recorded.type) ? evolveSettlementBatch(state, event) : state;
      },
      client,
    });
    return { streamId, state: loaded.state, version: loaded.version, correlations, lastEventId };
  }

  /**
   * Appends at the version read, in parts bounded by MAX_EVENTS_PER_APPEND; advances `loaded.version`.
   * Says whether a part had been appended before (a repeat the store absorbed).
   */
  private async append(loaded: LoadedBatch, events: NewEvent[], client: PoolClient): Promise<{ alreadyAppended: boolean }> {
    let alreadyAppended = false;
    for (let start = 0; start < events.length; start += MAX_EVENTS_PER_APPEND) {
      const part = events.slice(start, start + MAX_EVENTS_PER_APPEND);
      const result = await this.store.appendToStream(loaded.streamId, part, { expectedVersion: loaded.version, client });
      loaded.version = result.nextExpectedVersion;
      alreadyAppended ||= result.alreadyAppended;
    }
    return { alreadyAppended };
  }

  /**
   * The payment a line settles, once its stream shows the very event the line comes from: a capture or
   * refund is counted (and paid out) only as the payment recorded it, never as a message on
   * payments.events says it (a record there could be forged, or another environment's).
   */
  private async paymentOf(paymentId: string, client: PoolClient, cause: ContractEnvelope): Promise<PaymentRequestedData> {
    const events = await this.store.readStream(`payment-${paymentId}`, { client });
    const [first] = events;
    if (first?.type !== 'PaymentRequested') throw new PermanentMessageError(`payment ${paymentId} is not known to payments; nothing to settle`);
    const recorded = events.find((event) => event.id === cause.id);
    if (recorded === undefined || recorded.type !== cause.type || canonicalJson(settledFields(recorded.data)) !== canonicalJson(settledFields(cause.data))) {
      throw new PermanentMessageError(`${cause.type} ${cause.id} is not on payment ${paymentId}'s stream as sent; nothing to settle`);
    }
    return first.data as PaymentRequestedData;
  }
}

/** What a settlement line takes from a capture or refund: the rest may differ between versions of the event. */
function settledFields(data: unknown): unknown {
  const { paymentId, refundId, amount } = data as { paymentId?: unknown; refundId?: unknown; amount?: unknown };
  return { paymentId, refundId, amount };
}

/** The line's event on the batch, or 'batch_full'; any other refusal is the message's fault (dead-lettered with the reason). */
function decideLine(line: Line, loaded: LoadedBatch): SettlementBatchEvent[] | 'batch_full' {
  try {
    return decideSettlementBatch(line.command, loaded.state);
  } catch (error) {
    if (!(error instanceof SettlementBatchError)) throw error;
    if (error.code === 'batch_full') return 'batch_full';
    throw new PermanentMessageError(`${line.kind} ${line.lineId}: ${error.message}`);
  }
}

function rememberCorrelation(correlations: Map<string, string>, event: RecordedEvent): void {
  const correlationId = event.metadata['correlationId'];
  if (typeof correlationId !== 'string') return;
  if (event.type === 'PaymentAddedToSettlementBatch') correlations.set(`payment:${(event.data as { paymentId: string }).paymentId}`, correlationId);
  if (event.type === 'RefundAddedToSettlementBatch') correlations.set(`refund:${(event.data as { refundId: string }).refundId}`, correlationId);
}

/**
 * OpenAccount for the accounts found by convention (those the terms name are the operator's): the
 * merchant's payout account and the platform's fee revenue account. Sent with every batch opening;
 * the ledger replays an OpenAccount with the same body, so asking again is harmless.
 */
function accountOpenings(merchantId: string, currency: string, terms: { settlementAccountId: string | undefined; feeRevenueAccountId: string | undefined }): { type: 'OpenAccount'; data: OpenAccountData }[] {
  const openings: { type: 'OpenAccount'; data: OpenAccountData }[] = [];
  if (terms.settlementAccountId === undefined) {
    // Mirrors money leaving the platform for the merchant's bank, like the clearing accounts: no balance flag.
    openings.push({ type: 'OpenAccount', data: { accountId: conventionalSettlementAccountId(merchantId, currency), ownerId: merchantId, kind: 'settlement', currency, allowNegativeBalance: true } });
  }
  if (terms.feeRevenueAccountId === undefined) {
    openings.push({ type: 'OpenAccount', data: { accountId: conventionalFeeRevenueAccountId(currency), ownerId: 'clearline', kind: 'fee_revenue', currency, allowNegativeBalance: false } });
  }
  return openings;
}
