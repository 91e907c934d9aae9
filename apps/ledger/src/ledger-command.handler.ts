import { Inject, Injectable } from '@nestjs/common';
import type { ContractEnvelope } from '@clearline/contracts';
import { PostgresEventStore, type ExpectedVersion, type NewEvent, type StreamAppend } from '@clearline/event-store';
import {
  decideLedger, LedgerDomainError, streamIdOf, type LedgerCommand, type LedgerEvent, type LedgerResult, type LedgerState,
} from '@clearline/ledger-domain';
import { PermanentMessageError } from '@clearline/messaging';
import { eventsCausedBy, LOGGER, type Logger } from '@clearline/service-runtime';
import type { PoolClient } from 'pg';
import { LedgerStateLoader } from './ledger-state.loader.js';
import { recordOpenHolds } from './open-holds.js';

const PRODUCER = 'ledger';

/**
 * Where a refusal the domain records nowhere (a capture refused, an id reused with another body)
 * is written so the outbox relay still publishes it to the caller: one stream per command message,
 * which no decision ever reads.
 */
export const REPLY_CATEGORY = 'ledger_reply';

const LEDGER_COMMAND_TYPES: ReadonlySet<string> = new Set<LedgerCommand['type']>([
  'OpenAccount', 'ModifyAccount', 'FreezeAccount', 'UnfreezeAccount', 'CloseAccount', 'RegisterBalanceMonitor', 'PostTransfer',
  'PostLinkedTransfers', 'ExchangeCurrency', 'ReverseTransfer', 'PlaceHold', 'CaptureHold', 'VoidHold', 'ExpireHold',
]);

/**
 * Decides every ledger command with `decideLedger`: loads the streams the command touches, decides
 * against the edge's clock, and appends every resulting event in one call inside the consumer's
 * transaction, expecting each stream read to be where it was read. A concurrent writer makes that
 * append fail (WrongExpectedVersionError) and the consumer's retry decides again on fresh state.
 * A replayed command appends nothing: its first outcome was already published.
 */
@Injectable()
export class LedgerCommandHandler {
  constructor(
    private readonly store: PostgresEventStore,
    private readonly loader: LedgerStateLoader,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async handle(envelope: ContractEnvelope, client: PoolClient): Promise<LedgerResult> {
    const command = ledgerCommandOf(envelope);
    const { state, versions } = await this.loader.load(command, client);
    const now = new Date();
    const result = decide(command, state, now);
    const appends = appendsFor(envelope, result, versions, now);
    if (appends.length > 0) {
      await this.store.appendToStreams(appends, { client });
      await recordOpenHolds(client, result.events);
    }
    const log = { command: command.type, status: result.status, reasonCode: result.reasonCode, outcome: result.outcome?.type, correlationId: envelope.metadata.correlationId };
    if (result.status === 'rejected') this.logger.warn(log, 'ledger command rejected');
    else this.logger.info(log, result.status === 'replayed' ? 'ledger command repeated; first outcome stands' : 'ledger command accepted');
    return result;
  }
}

function ledgerCommandOf(envelope: ContractEnvelope): LedgerCommand {
  if (!LEDGER_COMMAND_TYPES.has(envelope.type)) throw new PermanentMessageError(`the ledger does not handle '${envelope.type}' messages`);
  return { type: envelope.type, data: envelope.data } as LedgerCommand;
}

/** Input that no state could make valid is the sender's error: dead-lettered with the reason, never retried. */
function decide(command: LedgerCommand, state: LedgerState, now: Date): LedgerResult {
  try {
    return decideLedger(command, state, now);
  } catch (error) {
    if (error instanceof LedgerDomainError) throw new PermanentMessageError(error.message);
    throw error;
  }
}

/**
 * One append per stream written, each expecting the version it was read at; when anything is
 * written, the streams read but not written are checked too (empty appends), so a refusal is never
 * recorded against balances that changed meanwhile.
 */
function appendsFor(cause: ContractEnvelope, result: LedgerResult, versions: ReadonlyMap<string, ExpectedVersion>, now: Date): StreamAppend[] {
  if (result.status === 'replayed') return [];
  const byStream = new Map<string, LedgerEvent['event'][]>();
  for (const ledgerEvent of result.events) {
    const streamId = streamIdOf(ledgerEvent);
    if (!versions.has(streamId)) throw new Error(`the decision wrote '${streamId}', which was not loaded (loader bug)`);
    byStream.set(streamId, [...(byStream.get(streamId) ?? []), ledgerEvent.event]);
  }
  const appends: StreamAppend[] = [];
  const reply = replyAppendFor(cause, result, now);
  if (reply !== undefined) appends.push(reply);
  if (byStream.size === 0 && appends.length === 0) return [];
  for (const [streamId, expectedVersion] of versions) {
    appends.push({ streamId, events: eventsCausedBy(cause, PRODUCER, streamId, byStream.get(streamId) ?? [], now), expectedVersion });
  }
  return appends;
}

/**
 * An outcome that no stream of the decision records (a refused capture, an id reused with another
 * body) goes to `ledger_reply-<messageId>`, so the outbox relay still publishes it to the caller.
 * A replay publishes nothing: its first outcome was published when it was decided.
 */
export function replyAppendFor(cause: LedgerCause, result: LedgerResult, now: Date): StreamAppend | undefined {
  const outcome = result.outcome;
  if (result.status === 'replayed' || outcome === undefined) return undefined;
  if (result.events.some((ledgerEvent) => ledgerEvent.category !== 'account' && ledgerEvent.event.type === outcome.type)) return undefined;
  const replyStream = `${REPLY_CATEGORY}-${cause.id}`;
  return { streamId: replyStream, events: eventsCausedBy(cause, PRODUCER, replyStream, [outcome], now), expectedVersion: 'any' };
}

/** What the ledger's events are caused by: the command message (its id derives the event ids). */
export type LedgerCause = Pick<ContractEnvelope, 'id' | 'metadata'>;

/** The events of one stream of one decision, with ids derived from the cause (the same cause gives the same ids). */
export function ledgerEventsFor(cause: LedgerCause, streamId: string, events: readonly LedgerEvent['event'][], now: Date): NewEvent[] {
  return eventsCausedBy(cause, PRODUCER, streamId, events, now);
}
