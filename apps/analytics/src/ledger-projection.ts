import type {
  CurrencyExchangedData, CurrencyExchangeRejectedData, LinkedTransfersPostedData, LinkedTransfersRejectedData, OpenAccountData,
  TransferPostedData, TransferRejectedData, TransferReversalRejectedData, TransferReversedData,
} from '@clearline/contracts';
import type { RecordedEvent } from '@clearline/event-store';
import type { PoolClient } from 'pg';
import { upsertRows, type ColumnSpec } from './bulk-write.js';

/**
 * Read model 'ledger' (read-model-catalog.ts): projects the ledger's account and transfer streams
 * into account balances and status, one account entry per balance change (with the balances after
 * it), and one row per transfer. Runs inside the subscription's transaction like every projection
 * here, writing into the tables it is given (the live ones or a rebuild's shadows). Each write is
 * guarded by the event's place in its stream (an account's last_position; a transfer's id, then its
 * last_position for reversals applied), so an event applied twice changes nothing: a replay can only
 * ever add what is missing.
 */

export const LEDGER_TABLES = ['account_balances', 'account_entries', 'transfers'] as const;
export type LedgerTables = Record<(typeof LEDGER_TABLES)[number], string>;
export const LEDGER_CATEGORIES = ['account', 'transfer'];

export async function projectLedger(events: readonly RecordedEvent[], client: PoolClient, tables: LedgerTables): Promise<void> {
  await projectAccounts(events.filter((event) => event.category === 'account'), client, tables);
  // Transfers are a few statements per batch (one row per transfer-<id> stream); each its own.
  for (const event of events) if (event.category === 'transfer') await projectTransferEvent(event, client, tables);
}

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

interface AccountRow {
  account_id: string;
  owner_id: string;
  kind: string;
  currency: string;
  posted_minor: string;
  pending_minor: string;
  opened_at: Date;
  updated_at: Date;
  status: string;
  opened_position: string;
  visible_at: Date;
  last_position: string;
}

const ACCOUNT_COLUMNS: ColumnSpec[] = [
  { name: 'account_id', arrayType: 'text[]' }, { name: 'owner_id', arrayType: 'text[]' }, { name: 'kind', arrayType: 'text[]' },
  { name: 'currency', arrayType: 'text[]' }, { name: 'posted_minor', arrayType: 'numeric[]' }, { name: 'pending_minor', arrayType: 'numeric[]' },
  { name: 'opened_at', arrayType: 'timestamptz[]' }, { name: 'updated_at', arrayType: 'timestamptz[]' }, { name: 'status', arrayType: 'text[]' },
  { name: 'opened_position', arrayType: 'bigint[]' }, { name: 'visible_at', arrayType: 'timestamptz[]' }, { name: 'last_position', arrayType: 'bigint[]' },
];
const ENTRY_COLUMNS: ColumnSpec[] = [
  { name: 'account_id', arrayType: 'text[]' }, { name: 'global_position', arrayType: 'bigint[]' }, { name: 'stream_version', arrayType: 'bigint[]' },
  { name: 'recorded_at', arrayType: 'timestamptz[]' }, { name: 'visible_at', arrayType: 'timestamptz[]' }, { name: 'event_type', arrayType: 'text[]' },
  { name: 'transfer_id', arrayType: 'text[]' }, { name: 'hold_id', arrayType: 'text[]' }, { name: 'posted_change_minor', arrayType: 'numeric[]' },
  { name: 'pending_change_minor', arrayType: 'numeric[]' }, { name: 'posted_minor', arrayType: 'numeric[]' }, { name: 'pending_minor', arrayType: 'numeric[]' },
  { name: 'correlation_id', arrayType: 'text[]' },
];

/**
 * Folds a batch of account events over the accounts' stored rows, then writes the changed balances
 * and the new entries with one statement each. An account's last_position is the guard: an event at
 * or before it was applied already (events of a stream come in $all order), so it changes nothing.
 */
async function projectAccounts(events: readonly RecordedEvent[], client: PoolClient, tables: LedgerTables): Promise<void> {
  if (events.length === 0) return;
  const accountIdOf = (event: RecordedEvent): string => event.streamId.slice('account-'.length);
  const { rows } = await client.query<AccountRow>(
    `select ${ACCOUNT_COLUMNS.map((column) => column.name).join(', ')} from ${tables.account_balances} where account_id = any($1::text[])`,
    [[...new Set(events.map(accountIdOf))]],
  );
  const accounts = new Map(rows.map((row) => [row.account_id, row]));
  const changed = new Set<string>();
  const entries: unknown[][] = [];
  for (const event of events) {
    const accountId = accountIdOf(event);
    const position = event.globalPosition;
    if (event.type === 'AccountOpened') {
      if (accounts.has(accountId)) continue;
      const data = event.data as OpenAccountData;
      accounts.set(accountId, {
        account_id: accountId, owner_id: data.ownerId, kind: data.kind, currency: data.currency, posted_minor: '0', pending_minor: '0',
        opened_at: event.recordedAt, updated_at: event.recordedAt, status: 'open', opened_position: position.toString(), visible_at: event.recordedAt,
        last_position: position.toString(),
      });
      changed.add(accountId);
      continue;
    }
    const account = accounts.get(accountId);
    // AccountOpened is each account stream's first event: without it there is no balance to move.
    if (account === undefined || position <= BigInt(account.last_position)) continue;
    const effect = BALANCE_EFFECTS[event.type];
    if (effect !== undefined) {
      const data = event.data as { amountMinor: string; transferId?: string; holdId?: string };
      const amountMinor = BigInt(data.amountMinor);
      const postedChange = amountMinor * BigInt(effect.posted);
      const pendingChange = amountMinor * BigInt(effect.pending);
      // A writer whose transaction began earlier may append later: visible_at never goes backwards.
      const visibleAt = event.recordedAt > account.visible_at ? event.recordedAt : account.visible_at;
      Object.assign(account, {
        posted_minor: (BigInt(account.posted_minor) + postedChange).toString(), pending_minor: (BigInt(account.pending_minor) + pendingChange).toString(),
        visible_at: visibleAt, updated_at: event.recordedAt, last_position: position.toString(),
      });
      entries.push([
        accountId, position.toString(), event.streamVersion.toString(), event.recordedAt, visibleAt, event.type,
        effect.reference === 'transfer' ? (data.transferId ?? null) : null, effect.reference === 'hold' ? (data.holdId ?? null) : null,
        postedChange.toString(), pendingChange.toString(), account.posted_minor, account.pending_minor, correlationIdOf(event),
      ]);
      changed.add(accountId);
      continue;
    }
    const statusChange = ACCOUNT_STATUS_AFTER[event.type];
    // The same transitions evolveAccount makes: a freeze of a closed account changes nothing.
    if (statusChange !== undefined && statusChange.from.includes(account.status)) {
      Object.assign(account, { status: statusChange.status, last_position: position.toString() });
      changed.add(accountId);
    }
    // AccountModified, balance monitors and threshold crossings change no balance and no status.
  }
  // Sorted by key, so concurrent writers (a live batch and a rebuild's swap) lock rows in one order.
  const balances = [...changed].sort().map((accountId) => {
    const account = accounts.get(accountId) as AccountRow;
    return ACCOUNT_COLUMNS.map((column) => account[column.name as keyof AccountRow]);
  });
  await upsertRows(client, tables.account_balances, ['account_id'], ACCOUNT_COLUMNS, balances);
  await upsertRows(client, tables.account_entries, ['account_id', 'stream_version'], ENTRY_COLUMNS, entries);
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

export async function projectTransferEvent(event: RecordedEvent, client: PoolClient, tables: LedgerTables): Promise<void> {
  const transferId = event.streamId.slice('transfer-'.length);
  const position = event.globalPosition.toString();
  if (event.type === 'TransferReversalApplied') {
    const { amountMinor } = event.data as { amountMinor: string };
    await client.query(
      `update ${tables.transfers} set reversed_minor = reversed_minor + $2::numeric, last_position = $3 where transfer_id = $1 and last_position < $3`,
      [transferId, amountMinor, position],
    );
    return;
  }
  const row = transferRowOf(event);
  if (row === undefined) return;
  // The first outcome owns the id; the ledger never appends a second, and a replay of the first is absorbed.
  await client.query(
    `insert into ${tables.transfers} (transfer_id, outcome, status, reason_code, debit_account_id, credit_account_id, amount_minor, currency,
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
