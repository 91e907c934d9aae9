import type { CallConnectorData } from '@clearline/payments-domain';
import type { Pool, PoolClient } from 'pg';

/**
 * `payments.connector_calls` (migration 0003): the process's connector calls waiting to run. Written
 * with the payment's events (recordDecisionRows in payment-tables.ts), claimed by the executor under a lease, deleted with the call's result.
 */

export interface ClaimedConnectorCall {
  call: CallConnectorData;
  correlationId: string;
  /** Runs started, this one included. */
  runs: number;
}

/**
 * Claims up to `limit` calls nobody holds (never claimed, or whose lease ran out), oldest first, for
 * `leaseMs`; rows another executor is claiming are skipped.
 */
export async function claimConnectorCalls(pool: Pool, now: Date, leaseMs: number, limit: number): Promise<ClaimedConnectorCall[]> {
  const { rows } = await pool.query<{ request: CallConnectorData; correlation_id: string; runs: number }>(
    `update payments.connector_calls set claimed_until = $1::timestamptz + make_interval(secs => $2::double precision / 1000), runs = runs + 1
     where call_id in (
       select call_id from payments.connector_calls
       where claimed_until is null or claimed_until <= $1
       order by created_at
       limit $3
       for update skip locked)
     returning request, correlation_id, runs`,
    [now, leaseMs, limit],
  );
  return rows.map((row) => ({ call: row.request, correlationId: row.correlation_id, runs: row.runs }));
}

/** Takes the call's row for the transaction that records its result; false when another run recorded it already. */
export async function lockConnectorCall(client: PoolClient, callId: string): Promise<boolean> {
  const { rowCount } = await client.query('select 1 from payments.connector_calls where call_id = $1 for update', [callId]);
  return rowCount === 1;
}

export async function deleteConnectorCall(client: PoolClient, callId: string): Promise<void> {
  await client.query('delete from payments.connector_calls where call_id = $1', [callId]);
}

/** Shortens the lease of a run that could not record its result, so a pass runs the call again after `delayMs`. */
export async function retryConnectorCallAfter(pool: Pool, callId: string, now: Date, delayMs: number): Promise<void> {
  await pool.query(
    'update payments.connector_calls set claimed_until = $2::timestamptz + make_interval(secs => $3::double precision / 1000) where call_id = $1',
    [callId, now, delayMs],
  );
}
