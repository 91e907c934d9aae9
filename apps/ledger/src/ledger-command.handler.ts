import { Inject, Injectable } from '@nestjs/common';
import type { ContractEnvelope } from '@clearline/contracts';
import { PostgresEventStore, type ExpectedVersion, type StreamAppend } from '@clearline/event-store';
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
  const outcome = result.outcome;
  if (outcome !== undefined && !result.events.some((ledgerEvent) => ledgerEvent.category !== 'account' && ledgerEvent.event.type === outcome.type)) {
    const replyStream = `${REPLY_CATEGORY}-${cause.id}`;
    appends.push({ streamId: replyStream, events: eventsCausedBy(cause, PRODUCER, replyStream, [outcome], now), expectedVersion: 'any' });
  }
  if (byStream.size === 0 && appends.length === 0) return [];
  for (const [streamId, expectedVersion] of versions) {
    appends.push({ streamId, events: eventsCausedBy(cause, PRODUCER, streamId, byStream.get(streamId) ?? [], now), expectedVersion });
  }
  return appends;
}
