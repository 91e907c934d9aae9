import type { ContractEnvelope } from '@clearline/contracts';
import type { NewEvent, StreamAppend } from '@clearline/event-store';
import type { LedgerEvent, LedgerOutcome, LedgerResult } from '@clearline/ledger-domain';
import { eventsCausedBy } from '@clearline/service-runtime';

const PRODUCER = 'ledger';

/**
 * Where a refusal the domain records nowhere (a capture refused, an id reused with another body)
 * is written so the outbox relay still publishes it to the caller: one stream per command message,
 * which no decision ever reads.
 */
export const REPLY_CATEGORY = 'ledger_reply';

/** What the ledger's events are caused by: the command message (its id derives the event ids). */
export type LedgerCause = Pick<ContractEnvelope, 'id' | 'metadata'>;

/** The events of one stream of one decision, with ids derived from the cause (the same cause gives the same ids). */
export function ledgerEventsFor(cause: LedgerCause, streamId: string, events: readonly (LedgerEvent['event'] | LedgerOutcome)[], now: Date): NewEvent[] {
  return eventsCausedBy(cause, PRODUCER, streamId, events, now);
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
  return { streamId: replyStream, events: ledgerEventsFor(cause, replyStream, [outcome], now), expectedVersion: 'any' };
}
