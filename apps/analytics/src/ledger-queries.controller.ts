import { Controller, Get, Headers, Inject, Param, Query } from '@nestjs/common';
import { forwardedPrefix, POSTGRES_POOL, ProblemException } from '@clearline/service-runtime';
import type { Pool } from 'pg';
import {
  encodeCursor, parseAccountId, parseBalancePoint, parseCorrelationId, parseCursor, parseLimit, type BalancePoint,
} from './query-parameters.js';

/** Times leave with PostgreSQL's full microsecond precision, so a time read here can be asked for again as `asOf` exactly. */
const utc = (column: string): string => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * An entry's columns as the API shows them (numbers and times as text). They keep the columns' names,
 * and ORDER BY takes a bare name for the output column, the text: every ORDER BY here names the
 * table's column through its alias (`entry.global_position`), or position 10 would sort before 9.
 */
const ENTRY_COLUMNS = `global_position::text, stream_version::text, event_type, transfer_id, hold_id, posted_change_minor::text,
  pending_change_minor::text, posted_minor::text, pending_minor::text, correlation_id, ${utc('recorded_at')} as recorded_at, ${utc('visible_at')} as visible_at`;

interface EntryRow {
  global_position: string;
  stream_version: string;
  event_type: string;
  transfer_id: string | null;
  hold_id: string | null;
  posted_change_minor: string;
  pending_change_minor: string;
  posted_minor: string;
  pending_minor: string;
  correlation_id: string | null;
  recorded_at: string;
  visible_at: string;
}

interface AccountRow {
  account_id: string;
  currency: string;
  opened_at: string;
  opened_position: string;
}

export interface Balances {
  postedMinor: string;
  pendingMinor: string;
  availableMinor: string;
}

export interface AccountEntryView {
  globalPosition: string;
  streamVersion: string;
  type: string;
  transferId: string | null;
  holdId: string | null;
  change: { postedMinor: string; pendingMinor: string };
  balancesAfter: Balances;
  correlationId: string | null;
  recordedAt: string;
  visibleAt: string;
}

export interface PageView {
  limit: number;
  nextCursor: string | null;
}

/** available = posted - pending, in bigint: the amount a new debit or hold may use. */
function balancesOf(postedMinor: string, pendingMinor: string): Balances {
  return { postedMinor, pendingMinor, availableMinor: (BigInt(postedMinor) - BigInt(pendingMinor)).toString() };
}

function entryView(row: EntryRow): AccountEntryView {
  return {
    globalPosition: row.global_position,
    streamVersion: row.stream_version,
    type: row.event_type,
    transferId: row.transfer_id,
    holdId: row.hold_id,
    change: { postedMinor: row.posted_change_minor, pendingMinor: row.pending_change_minor },
    balancesAfter: balancesOf(row.posted_minor, row.pending_minor),
    correlationId: row.correlation_id,
    recordedAt: row.recorded_at,
    visibleAt: row.visible_at,
  };
}

/**
 * The ledger's queries: balances now or as of a past time or global position, an account's history
 * newest first, and the transfers one request (correlation id) caused. Read-only; amounts leave as
 * strings of minor units. Links honour `X-Forwarded-Prefix`, so through the gateway they lead back
 * through the gateway.
 */
@Controller()
export class LedgerQueriesController {
  constructor(@Inject(POSTGRES_POOL) private readonly pool: Pool) {}

  @Get('accounts/:accountId/balance')
  async balance(@Param('accountId') accountIdParameter: string, @Query() query: Record<string, unknown>): Promise<Record<string, unknown>> {
    const accountId = parseAccountId(accountIdParameter);
    const point = parseBalancePoint(query);
    const account = await this.account(accountId);
    if (await this.openedAfter(account, point)) {
      throw new ProblemException(404, 'account-not-open-at', 'Account not open then', `account ${accountId} was opened at ${account.opened_at} (global position ${account.opened_position}), after the point asked for`);
    }
    const entry = await this.lastEntryAt(accountId, point);
    return {
      accountId,
      currency: account.currency,
      asOf: point.kind === 'time' ? { time: point.time } : point.kind === 'position' ? { position: point.position.toString() } : null,
      balances: entry ? balancesOf(entry.posted_minor, entry.pending_minor) : balancesOf('0', '0'),
      lastEntry: entry ? entryView(entry) : null,
    };
  }

  @Get('accounts/:accountId/history')
  async history(
    @Param('accountId') accountIdParameter: string,
    @Query() query: Record<string, unknown>,
    @Headers('x-forwarded-prefix') prefixHeader: unknown,
  ): Promise<Record<string, unknown>> {
    const accountId = parseAccountId(accountIdParameter);
    const limit = parseLimit(query['limit']);
    const before = parseCursor(query['cursor']);
    const account = await this.account(accountId);
    // One row more than the page shows says whether there is a next page, without a count.
    const { rows } = await this.pool.query<EntryRow>(
      `select ${ENTRY_COLUMNS} from analytics.account_entries entry
       where account_id = $1 ${before === undefined ? '' : 'and global_position < $3'} order by entry.global_position desc limit $2`,
      before === undefined ? [accountId, limit + 1] : [accountId, limit + 1, before.toString()],
    );
    const entries = rows.slice(0, limit).map(entryView);
    const nextCursor = rows.length > limit ? encodeCursor(BigInt(entries[entries.length - 1]!.globalPosition)) : null;
    const path = `${forwardedPrefix(prefixHeader)}/accounts/${encodeURIComponent(accountId)}/history`;
    return {
      accountId,
      currency: account.currency,
      entries,
      page: { limit, nextCursor } satisfies PageView,
      links: pageLinks(path, { limit }, before, nextCursor),
    };
  }

  @Get('transfers')
  async transfers(@Query() query: Record<string, unknown>, @Headers('x-forwarded-prefix') prefixHeader: unknown): Promise<Record<string, unknown>> {
    const correlationId = parseCorrelationId(query['correlationId']);
    const limit = parseLimit(query['limit']);
    const after = parseCursor(query['cursor']);
    // Oldest first: the transfers of one request read as the story of what it did.
    const { rows } = await this.pool.query(
      `select transfer_id, outcome, status, reason_code, debit_account_id, credit_account_id, amount_minor::text, currency,
         target_amount_minor::text, target_currency, original_transfer_id, leg_transfer_ids, reversed_minor::text,
         global_position::text, ${utc('recorded_at')} as recorded_at
       from analytics.transfers transfer where correlation_id = $1 and global_position > $2 order by transfer.global_position limit $3`,
      [correlationId, (after ?? -1n).toString(), limit + 1],
    );
    const page = rows.slice(0, limit);
    const entries = await this.entriesOfTransfers(correlationId, page.map((row) => row.transfer_id as string));
    const nextCursor = rows.length > limit ? encodeCursor(BigInt(page[page.length - 1].global_position)) : null;
    return {
      correlationId,
      transfers: page.map((row) => ({
        transferId: row.transfer_id,
        outcome: row.outcome,
        status: row.status,
        reasonCode: row.reason_code,
        debitAccountId: row.debit_account_id,
        creditAccountId: row.credit_account_id,
        amount: row.amount_minor === null ? null : { amountMinor: row.amount_minor, currency: row.currency },
        targetAmount: row.target_amount_minor === null ? null : { amountMinor: row.target_amount_minor, currency: row.target_currency },
        originalTransferId: row.original_transfer_id,
        legTransferIds: row.leg_transfer_ids,
        reversedMinor: row.reversed_minor,
        globalPosition: row.global_position,
        recordedAt: row.recorded_at,
        entries: entries.get(row.transfer_id) ?? [],
      })),
      page: { limit, nextCursor } satisfies PageView,
      links: pageLinks(`${forwardedPrefix(prefixHeader)}/transfers`, { correlationId, limit }, after, nextCursor),
    };
  }

  private async account(accountId: string): Promise<AccountRow> {
    const { rows } = await this.pool.query<AccountRow>(
      `select account_id, currency, ${utc('opened_at')} as opened_at, opened_position::text from analytics.account_balances where account_id = $1`,
      [accountId],
    );
    const account = rows[0];
    if (!account) throw new ProblemException(404, 'account-not-found', 'Account not found', `no account ${accountId}`);
    return account;
  }

  private async openedAfter(account: AccountRow, point: BalancePoint): Promise<boolean> {
    if (point.kind === 'position') return point.position < BigInt(account.opened_position);
    if (point.kind === 'now') return false;
    // PostgreSQL compares the instants: the text may carry any offset and microseconds.
    const { rows } = await this.pool.query<{ before: boolean }>('select $1::timestamptz < $2::timestamptz as before', [point.time, account.opened_at]);
    return rows[0]!.before;
  }

  /** The account's last entry at the point: along a stream, positions and visible times only grow, so it is a prefix. */
  private async lastEntryAt(accountId: string, point: BalancePoint): Promise<EntryRow | undefined> {
    const [condition, order, bound] =
      point.kind === 'time' ? ['and visible_at <= $2::timestamptz', 'entry.visible_at desc, entry.global_position desc', point.time]
        : point.kind === 'position' ? ['and global_position <= $2::bigint', 'entry.global_position desc', point.position.toString()]
          : ['', 'entry.global_position desc', undefined];
    const { rows } = await this.pool.query<EntryRow>(
      `select ${ENTRY_COLUMNS} from analytics.account_entries entry where account_id = $1 ${condition} order by ${order} limit 1`,
      bound === undefined ? [accountId] : [accountId, bound],
    );
    return rows[0];
  }

  /** The balance changes of these transfers, found through the correlation index (they carry the same correlation id). */
  private async entriesOfTransfers(correlationId: string, transferIds: string[]): Promise<Map<string, (AccountEntryView & { accountId: string })[]>> {
    const byTransfer = new Map<string, (AccountEntryView & { accountId: string })[]>();
    if (transferIds.length === 0) return byTransfer;
    const { rows } = await this.pool.query<EntryRow & { account_id: string }>(
      `select account_id, ${ENTRY_COLUMNS} from analytics.account_entries entry
       where correlation_id = $1 and transfer_id = any($2::text[]) order by entry.global_position`,
      [correlationId, transferIds],
    );
    for (const row of rows) {
      const list = byTransfer.get(row.transfer_id!) ?? [];
      list.push({ accountId: row.account_id, ...entryView(row) });
      byTransfer.set(row.transfer_id!, list);
    }
    return byTransfer;
  }
}

function pageLinks(path: string, parameters: Record<string, string | number>, cursor: bigint | undefined, nextCursor: string | null): { self: string; next: string | null } {
  const link = (pageCursor: string | undefined) => {
    const search = new URLSearchParams(Object.entries(parameters).map(([name, value]): [string, string] => [name, String(value)]));
    if (pageCursor !== undefined) search.set('cursor', pageCursor);
    return `${path}?${search.toString()}`;
  };
  return { self: link(cursor === undefined ? undefined : encodeCursor(cursor)), next: nextCursor === null ? null : link(nextCursor) };
}
