import type {
  CurrencyExchangedData, CurrencyExchangeRejectedData, LinkedTransfersPostedData, LinkedTransfersRejectedData, OpenAccountData,
  TransferPostedData, TransferRejectedData, TransferReversalRejectedData, TransferReversedData,
} from '@clearline/contracts';
import type { RecordedEvent } from '@clearline/event-store';
import type { PoolClient } from 'pg';

/**
 * Projects the ledger's account and transfer streams: account balances and status, one account
 * entry per balance change (with the balances after it), and one row per transfer. Runs inside the
 * subscription's transaction like every projection here. Each write is guarded by the event's place
 * in its stream (an entry's primary key, a row's last_position), so an event applied twice changes
 * nothing: a replay can only ever add what is missing.
 */

/** How one account event moves posted and pending: each by the amount times its sign. */
export interface BalanceEffect {
  posted: -1 | 0 | 1;
  pending: -1 | 0 | 1;
  reference: 'transfer' | 'hold';
}

/**
 * The balance-changing events of an account stream (libs/ledger-domain's evolveAccount). A capture
 * posts its amount out of the hold: the ledger refuses a capture above what the hold still reserves
 * and releases the rest with AccountHoldReleased, so pending falls by exactly the captured amount.
 */
export const BALANCE_EFFECTS: Readonly<Record<string, BalanceEffect>> = {
  AccountDebited: { posted: -1, pending: 0, reference: 'transfer' },
  AccountCredited: { posted: 1, pending: 0, reference: 'transfer' },
  AccountFundsHeld: { posted: 0, pending: 1, reference: 'hold' },
  AccountHoldCaptured: { posted: -1, pending: -1, reference: 'hold' },
  AccountHoldReleased: { posted: 0, pending: -1, reference: 'hold' },
};

const ACCOUNT_STATUS_AFTER: Readonly<Record<string, { status: string; from: string[] }>> = {
  AccountFrozen: { status: 'frozen', from: ['open'] },
  AccountUnfrozen: { status: 'open', from: ['frozen'] },
  AccountClosed: { status: 'closed', from: ['open', 'frozen'] },
};

export async function projectAccountEvent(event: RecordedEvent, client: PoolClient): Promise<void> {
  const accountId = event.streamId.slice('account-'.length);
  if (event.type === 'AccountOpened') return openAccount(client, event, accountId);
  const effect = BALANCE_EFFECTS[event.type];
  if (effect !== undefined) return addEntry(client, event, accountId, effect);
  const statusChange = ACCOUNT_STATUS_AFTER[event.type];
  if (statusChange !== undefined) {
    // The same transitions evolveAccount makes: a freeze of a closed account changes nothing.
    await client.query(
      `update analytics.account_balances set status = $2, last_position = $4
       where account_id = $1 and status = any($3::text[]) and last_position < $4`,
      [accountId, statusChange.status, statusChange.from, event.globalPosition.toString()],
    );
  }
  // AccountModified, balance monitors and threshold crossings change no balance and no status.
}

async function openAccount(client: PoolClient, event: RecordedEvent, accountId: string): Promise<void> {
  const data = event.data as OpenAccountData;
  await client.query(
    `insert into analytics.account_balances
       (account_id, owner_id, kind, currency, status, opened_at, updated_at, visible_at, opened_position, last_position)
     values ($1, $2, $3, $4, 'open', $5, $5, $5, $6, $6)
     on conflict (account_id) do nothing`,
    [accountId, data.ownerId, data.kind, data.currency, event.recordedAt, event.globalPosition.toString()],
  );
}

/**
 * Inserts the entry with the balances after it and moves the account's balances to them, in one
 * statement. The entry's primary key (account, stream version) is the guard: when the entry exists
 * already, nothing is inserted and so nothing is updated.
 */
async function addEntry(client: PoolClient, event: RecordedEvent, accountId: string, effect: BalanceEffect): Promise<void> {
  const data = event.data as { amountMinor: string; transferId?: string; holdId?: string };
  const amountMinor = BigInt(data.amountMinor);
  const reference = effect.reference === 'transfer' ? data.transferId : data.holdId;
  await client.query(
    `with account as (
       select posted_minor, pending_minor, visible_at from analytics.account_balances where account_id = $1 for update
     ), entry as (
       insert into analytics.account_entries (account_id, global_position, stream_version, recorded_at, visible_at, event_type,
         transfer_id, hold_id, posted_change_minor, pending_change_minor, posted_minor, pending_minor, correlation_id)
       select $1, $2, $3, $4, greatest($4::timestamptz, account.visible_at), $5, $6, $7, $8::numeric, $9::numeric,
         account.posted_minor + $8::numeric, account.pending_minor + $9::numeric, $10
       from account
       on conflict (account_id, stream_version) do nothing
       returning posted_minor, pending_minor, visible_at, recorded_at, global_position
     )
     update analytics.account_balances balances
       set posted_minor = entry.posted_minor, pending_minor = entry.pending_minor, visible_at = entry.visible_at,
           updated_at = entry.recorded_at, last_position = entry.global_position
     from entry where balances.account_id = $1`,
    [
      accountId, event.globalPosition.toString(), event.streamVersion.toString(), event.recordedAt, event.type,
      effect.reference === 'transfer' ? reference : null, effect.reference === 'hold' ? reference : null,
      (amountMinor * BigInt(effect.posted)).toString(), (amountMinor * BigInt(effect.pending)).toString(), correlationIdOf(event),
    ],
  );
}

/** The correlation id the event's metadata carries (every ledger event has one; older or foreign ones may not). */
export function correlationIdOf(event: RecordedEvent): string | null {
  const correlationId = event.metadata['correlationId'];
  return typeof correlationId === 'string' ? correlationId : null;
}

interface TransferRow {
  outcome: string;
  status: 'posted' | 'rejected';
  reasonCode?: string;
  debitAccountId?: string;
  creditAccountId?: string;
  amount?: { amountMinor: string; currency: string };
  targetAmount?: { amountMinor: string; currency: string };
  originalTransferId?: string;
  legTransferIds?: string[];
}

/** What the read model keeps of each outcome of a transfer-<id> stream; undefined for the reversal markers. */
export function transferRowOf(event: RecordedEvent): TransferRow | undefined {
  switch (event.type) {
    case 'TransferPosted': {
      const { debitAccountId, creditAccountId, amount } = event.data as TransferPostedData;
      return { outcome: event.type, status: 'posted', debitAccountId, creditAccountId, amount };
    }
    case 'TransferRejected': {
      const { debitAccountId, creditAccountId, amount, reasonCode } = event.data as TransferRejectedData;
      return { outcome: event.type, status: 'rejected', reasonCode, debitAccountId, creditAccountId, amount };
    }
    case 'LinkedTransfersPosted': {
      const { transfers } = event.data as LinkedTransfersPostedData;
      return { outcome: event.type, status: 'posted', legTransferIds: transfers.map((leg) => leg.transferId) };
    }
    case 'LinkedTransfersRejected': {
      const { transfers, reasonCode } = event.data as LinkedTransfersRejectedData;
      return { outcome: event.type, status: 'rejected', reasonCode, legTransferIds: transfers.map((leg) => leg.transferId) };
    }
    case 'CurrencyExchanged': {
      const { debitAccountId, creditAccountId, amount, targetAmount } = event.data as CurrencyExchangedData;
      return { outcome: event.type, status: 'posted', debitAccountId, creditAccountId, amount, targetAmount };
    }
    case 'CurrencyExchangeRejected': {
      const { debitAccountId, creditAccountId, amount, reasonCode } = event.data as CurrencyExchangeRejectedData;
      return { outcome: event.type, status: 'rejected', reasonCode, debitAccountId, creditAccountId, amount };
    }
    case 'TransferReversed': {
      const { debitAccountId, creditAccountId, amount, originalTransferId } = event.data as TransferReversedData;
      return { outcome: event.type, status: 'posted', debitAccountId, creditAccountId, amount, originalTransferId };
    }
    case 'TransferReversalRejected': {
      const { amount, originalTransferId, reasonCode } = event.data as TransferReversalRejectedData;
      return { outcome: event.type, status: 'rejected', reasonCode, amount, originalTransferId };
    }
    default:
      return undefined;
  }
}

export async function projectTransferEvent(event: RecordedEvent, client: PoolClient): Promise<void> {
  const transferId = event.streamId.slice('transfer-'.length);
  const position = event.globalPosition.toString();
  if (event.type === 'TransferReversalApplied') {
    const { amountMinor } = event.data as { amountMinor: string };
    await client.query(
      'update analytics.transfers set reversed_minor = reversed_minor + $2::numeric, last_position = $3 where transfer_id = $1 and last_position < $3',
      [transferId, amountMinor, position],
    );
    return;
  }
  const row = transferRowOf(event);
  if (row === undefined) return;
  // The first outcome owns the id; the ledger never appends a second, and a replay of the first is absorbed.
  await client.query(
    `insert into analytics.transfers (transfer_id, outcome, status, reason_code, debit_account_id, credit_account_id, amount_minor, currency,
       target_amount_minor, target_currency, original_transfer_id, leg_transfer_ids, correlation_id, global_position, recorded_at, last_position)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $14)
     on conflict (transfer_id) do nothing`,
    [
      transferId, row.outcome, row.status, row.reasonCode ?? null, row.debitAccountId ?? null, row.creditAccountId ?? null,
      row.amount?.amountMinor ?? null, row.amount?.currency ?? null, row.targetAmount?.amountMinor ?? null, row.targetAmount?.currency ?? null,
      row.originalTransferId ?? null, row.legTransferIds ?? null, correlationIdOf(event), position, event.recordedAt,
    ],
  );
}
