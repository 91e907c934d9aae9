import type { LedgerEvent } from '@clearline/ledger-domain';
import type { Pool, PoolClient } from 'pg';

/**
 * `ledger.open_holds` (apps/ledger/migrations): the open holds that have an expiry. It only tells
 * the expiry scheduler where to look; whether a hold expires is decided on its streams.
 */

/** Keeps the table in step with a decision's hold events, in the transaction that appends them. */
export async function recordOpenHolds(client: PoolClient, events: readonly LedgerEvent[]): Promise<void> {
  for (const { category, id, event } of events) {
    if (category !== 'hold') continue;
    if (event.type === 'HoldPlaced' && event.data.expiresAt !== undefined) {
      await client.query(
        'insert into ledger.open_holds (hold_id, account_id, expires_at) values ($1, $2, $3) on conflict (hold_id) do nothing',
        [id, event.data.accountId, event.data.expiresAt],
      );
    } else if (event.type === 'HoldCaptured' || event.type === 'HoldVoided' || event.type === 'HoldExpired') {
      await client.query('delete from ledger.open_holds where hold_id = $1', [id]);
    }
  }
}

export interface DueHold {
  holdId: string;
  accountId: string;
}

/**
 * Claims up to `limit` holds past their expiry that no scheduler asked about in the last
 * `quietMs`: they are marked as asked in the same statement, and rows another instance is
 * claiming are skipped, so two instances rarely ask twice (and a second ask is a no-op anyway).
 */
export async function claimDueHolds(pool: Pool, now: Date, quietMs: number, limit: number): Promise<DueHold[]> {
  const { rows } = await pool.query<{ hold_id: string; account_id: string }>(
    `update ledger.open_holds set expiry_requested_at = $1
     where hold_id in (
       select hold_id from ledger.open_holds
       where expires_at <= $1 and (expiry_requested_at is null or expiry_requested_at <= $1::timestamptz - make_interval(secs => $2::double precision / 1000))
       order by expires_at
       limit $3
       for update skip locked)
     returning hold_id, account_id`,
    [now, quietMs, limit],
  );
  return rows.map((row) => ({ holdId: row.hold_id, accountId: row.account_id }));
}
