import type {
  CurrencyExchangedData, CurrencyExchangeRejectedData, LinkedTransfersPostedData, LinkedTransfersRejectedData, OpenAccountData,
  TransferPostedData, TransferRejectedData, TransferReversalRejectedData, TransferReversedData,
} from '@clearline/contracts';
import type { RecordedEvent } from '@clearline/event-store';
import type { PoolClient } from 'pg';
import { arrayLiteral, columnArrays, insertRows, writeRows, type ColumnSpec } from './bulk-write.js';
import { projectWithFold, type ReadModelFold, type WriteMode } from './read-model-fold.js';

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
  await projectWithFold(new LedgerFold(), events, client, tables);
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
 * Folds account and transfer events. An account's last_position is the guard: an event at or before
 * it was applied already (events of a stream come in $all order), so it changes nothing. Transfer
 * outcomes are inserted if their id is new (the first outcome owns the id: the ledger never appends
 * a second, and a replay of the first is absorbed by the conflict); reversals are added in one
 * `update` after them, each counted when it is after the row's last_position, which, as a stream's
 * positions increase, is the same test the events would meet one at a time.
 */
export class LedgerFold implements ReadModelFold<keyof LedgerTables> {
  private readonly accounts = new Map<string, AccountRow>();
  private readonly changedAccounts = new Set<string>();
  private readonly entries: unknown[][] = [];
  private readonly transferOutcomes = new Map<string, unknown[]>();
  private readonly reversals: { transferId: string[]; amountMinor: string[]; position: string[] } = { transferId: [], amountMinor: [], position: [] };

  get heldRows(): number {
    return this.accounts.size + this.entries.length + this.transferOutcomes.size + this.reversals.transferId.length;
  }

  /** Loads the balances of the accounts `events` move that the fold does not hold. */
  async load(events: readonly RecordedEvent[], client: PoolClient, tables: LedgerTables): Promise<void> {
    const missing = new Set<string>();
    for (const event of events) {
      if (event.category !== 'account') continue;
      const accountId = accountIdOf(event);
      if (!this.accounts.has(accountId)) missing.add(accountId);
    }
    if (missing.size === 0) return;
    const { rows } = await client.query<AccountRow>(
      `select ${ACCOUNT_COLUMNS.map((column) => column.name).join(', ')} from ${tables.account_balances} where account_id = any($1::text[])`,
      [[...missing]],
    );
    for (const row of rows) this.accounts.set(row.account_id, row);
  }

  apply(event: RecordedEvent): void {
    if (event.category === 'account') this.applyAccountEvent(event);
    else if (event.category === 'transfer') this.applyTransferEvent(event);
  }

  async write(client: PoolClient, tables: LedgerTables, mode: WriteMode): Promise<void> {
    // Sorted by key, so concurrent writers (a live batch and a rebuild's swap) lock rows in one order.
    const balances = [...this.changedAccounts].sort().map((accountId) => {
      const account = this.accounts.get(accountId) as AccountRow;
      return ACCOUNT_COLUMNS.map((column) => account[column.name as keyof AccountRow]);
    });
    const transfers = [...this.transferOutcomes.keys()].sort().map((transferId) => this.transferOutcomes.get(transferId) as unknown[]);
    await writeRows(client, mode, tables.account_balances, ['account_id'], ACCOUNT_COLUMNS, balances);
    await writeRows(client, mode, tables.account_entries, ['account_id', 'stream_version'], ENTRY_COLUMNS, this.entries);
    await writeTransfers(client, tables, transfers, this.reversals, mode);
  }

  private applyAccountEvent(event: RecordedEvent): void {
    const accountId = accountIdOf(event);
    const position = event.globalPosition;
    if (event.type === 'AccountOpened') {
      if (this.accounts.has(accountId)) return;
      const data = event.data as OpenAccountData;
      this.accounts.set(accountId, {
        account_id: accountId, owner_id: data.ownerId, kind: data.kind, currency: data.currency, posted_minor: '0', pending_minor: '0',
        opened_at: event.recordedAt, updated_at: event.recordedAt, status: 'open', opened_position: position.toString(), visible_at: event.recordedAt,
        last_position: position.toString(),
      });
      this.changedAccounts.add(accountId);
      return;
    }
    const account = this.accounts.get(accountId);
    // AccountOpened is each account stream's first event: without it there is no balance to move.
    if (account === undefined || position <= BigInt(account.last_position)) return;
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
      this.entries.push([
        accountId, position.toString(), event.streamVersion.toString(), event.recordedAt, visibleAt, event.type,
        effect.reference === 'transfer' ? (data.transferId ?? null) : null, effect.reference === 'hold' ? (data.holdId ?? null) : null,
        postedChange.toString(), pendingChange.toString(), account.posted_minor, account.pending_minor, correlationIdOf(event),
      ]);
      this.changedAccounts.add(accountId);
      return;
    }
    const statusChange = ACCOUNT_STATUS_AFTER[event.type];
    // The same transitions evolveAccount makes: a freeze of a closed account changes nothing.
    if (statusChange !== undefined && statusChange.from.includes(account.status)) {
      Object.assign(account, { status: statusChange.status, last_position: position.toString() });
      this.changedAccounts.add(accountId);
    }
    // AccountModified, balance monitors and threshold crossings change no balance and no status.
  }

  private applyTransferEvent(event: RecordedEvent): void {
    const transferId = event.streamId.slice('transfer-'.length);
    const position = event.globalPosition.toString();
    if (event.type === 'TransferReversalApplied') {
      this.reversals.transferId.push(transferId);
      this.reversals.amountMinor.push((event.data as { amountMinor: string }).amountMinor);
      this.reversals.position.push(position);
      return;
    }
    const row = transferRowOf(event);
    if (row === undefined || this.transferOutcomes.has(transferId)) return;
    this.transferOutcomes.set(transferId, [
      transferId, row.outcome, row.status, row.reasonCode ?? null, row.debitAccountId ?? null, row.creditAccountId ?? null,
      row.amount?.amountMinor ?? null, row.amount?.currency ?? null, row.targetAmount?.amountMinor ?? null, row.targetAmount?.currency ?? null,
      row.originalTransferId ?? null, row.legTransferIds === undefined ? null : arrayLiteral(row.legTransferIds), correlationIdOf(event), position,
      event.recordedAt, position,
    ]);
  }
}

function accountIdOf(event: RecordedEvent): string {
  return event.streamId.slice('account-'.length);
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

const TRANSFER_COLUMNS: ColumnSpec[] = [
  { name: 'transfer_id', arrayType: 'text[]' }, { name: 'outcome', arrayType: 'text[]' }, { name: 'status', arrayType: 'text[]' },
  { name: 'reason_code', arrayType: 'text[]' }, { name: 'debit_account_id', arrayType: 'text[]' }, { name: 'credit_account_id', arrayType: 'text[]' },
  { name: 'amount_minor', arrayType: 'numeric[]' }, { name: 'currency', arrayType: 'text[]' }, { name: 'target_amount_minor', arrayType: 'numeric[]' },
  { name: 'target_currency', arrayType: 'text[]' }, { name: 'original_transfer_id', arrayType: 'text[]' },
  // An array per row cannot be an element of a parameter array: each travels as its array literal.
  { name: 'leg_transfer_ids', arrayType: 'text[]' }, { name: 'correlation_id', arrayType: 'text[]' }, { name: 'global_position', arrayType: 'bigint[]' },
  { name: 'recorded_at', arrayType: 'timestamptz[]' }, { name: 'last_position', arrayType: 'bigint[]' },
];

/** The transfer outcomes (sorted by id), then the reversals applied to the stored rows (in a fresh table too, once its outcomes are copied in). */
async function writeTransfers(
  client: PoolClient, tables: LedgerTables, outcomes: readonly unknown[][], reversals: { transferId: string[]; amountMinor: string[]; position: string[] }, mode: WriteMode,
): Promise<void> {
  if (mode === 'insert') {
    await insertRows(client, tables.transfers, TRANSFER_COLUMNS, outcomes);
  } else if (outcomes.length > 0) {
    const names = TRANSFER_COLUMNS.map((column) => column.name);
    const parameters = TRANSFER_COLUMNS.map((column, index) => `$${index + 1}::${column.arrayType}`);
    await client.query(
      `insert into ${tables.transfers} (${names.join(', ')})
       select ${names.map((name) => (name === 'leg_transfer_ids' ? `${name}::text[]` : name)).join(', ')} from unnest(${parameters.join(', ')}) as row(${names.join(', ')})
       on conflict (transfer_id) do nothing`,
      columnArrays(TRANSFER_COLUMNS, outcomes),
    );
  }
  if (reversals.transferId.length === 0) return;
  await client.query(
    `update ${tables.transfers} t set reversed_minor = t.reversed_minor + applied.amount_minor, last_position = applied.last_position
     from (select r.transfer_id, sum(r.amount_minor) as amount_minor, max(r.position) as last_position
           from unnest($1::text[], $2::numeric[], $3::bigint[]) as r(transfer_id, amount_minor, position)
           join ${tables.transfers} stored on stored.transfer_id = r.transfer_id
           where r.position > stored.last_position
           group by r.transfer_id) applied
     where t.transfer_id = applied.transfer_id`,
    [arrayLiteral(reversals.transferId), arrayLiteral(reversals.amountMinor), arrayLiteral(reversals.position)],
  );
}
