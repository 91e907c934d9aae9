import type { PaymentWait } from '@clearline/contracts';
import type { CallConnectorData, ScheduleTimeoutData, TimerCommand } from '@clearline/payments-domain';
import type { Pool, PoolClient } from 'pg';
import { preparedStatement } from '@clearline/postgres';

/**
 * The payments schema (apps/payments/migrations). `payments.timeouts`: the open waits of payments and when each is due.
 * Written in the transaction that appends the payment's events; the scheduler reads it, and the
 * process decides on the payment's stream whether a fired wait is still open.
 */

/** What one decision writes beside the payment's stream, all in the transaction that appends it. */
export interface DecisionRows {
  /** Holds and transfers the decision asks the ledger for (see recordDecisionRows). */
  holdIds: readonly string[];
  timers: readonly TimerCommand[];
  calls: readonly CallConnectorData[];
}

// One statement for the whole decision: a handler pays a round trip per statement, and these rows
// used to take one each (three to five per message). The CTEs write different rows (the timer
// commands are folded to one per deadline first), so their order within the statement is irrelevant.
const RECORD_DECISION_ROWS = preparedStatement(`with cancelled as (
  delete from payments.timeouts
  where payment_id = $1 and deadline_id = any($3::text[])
), scheduled as (
  insert into payments.timeouts (payment_id, deadline_id, wait, attempt, due_at, correlation_id)
  select $1, timer.deadline_id, timer.wait, timer.attempt, timer.due_at, $2
  from unnest($4::text[], $5::text[], $6::int[], $7::timestamptz[]) as timer(deadline_id, wait, attempt, due_at)
  on conflict (payment_id, deadline_id) do update
    set wait = excluded.wait, attempt = excluded.attempt, due_at = excluded.due_at, correlation_id = excluded.correlation_id, fire_requested_at = null
), holds as (
  insert into payments.payment_holds (hold_id, payment_id)
  select hold_id, $1 from unnest($8::text[]) as hold(hold_id)
  on conflict (hold_id) do nothing
), calls as (
  -- A call asked for again (a redelivered message decides the same) is the same call: the first row stands.
  insert into payments.connector_calls (call_id, payment_id, request, correlation_id)
  select call.call_id, call.payment_id, call.request::jsonb, $2
  from unnest($9::text[], $10::text[], $11::text[]) as call(call_id, payment_id, request)
  on conflict (call_id) do nothing
)
select 1`);

/**
 * Records a decision's timers, hold index entries and connector calls in one round trip (none when
 * there is nothing to record): scheduling a deadline again replaces its time and attempt, and the
 * hold -> payment index must know a hold before the ledger answers for it.
 */
export async function recordDecisionRows(client: PoolClient, paymentId: string, correlationId: string, rows: DecisionRows): Promise<void> {
  if (rows.holdIds.length === 0 && rows.timers.length === 0 && rows.calls.length === 0) return;
  const { cancelled, scheduled } = foldTimerCommands(rows.timers);
  const calls = rows.calls.filter((call, index) => rows.calls.findIndex((other) => other.callId === call.callId) === index);
  await client.query({ ...RECORD_DECISION_ROWS, values: [
    paymentId,
    correlationId,
    cancelled,
    scheduled.map((timer) => timer.deadlineId),
    scheduled.map((timer) => timer.wait),
    scheduled.map((timer) => timer.attempt),
    scheduled.map((timer) => timer.dueAt),
    [...new Set(rows.holdIds)],
    calls.map((call) => call.callId),
    calls.map((call) => call.paymentId),
    calls.map((call) => JSON.stringify(call)),
  ] });
}

/**
 * The net effect of timer commands applied in order: per deadline, the last command wins (a cancel
 * after a schedule deletes the row, a schedule after a cancel writes it), so one statement can apply
 * them all without writing a row twice.
 */
export function foldTimerCommands(commands: readonly TimerCommand[]): { cancelled: string[]; scheduled: ScheduleTimeoutData[] } {
  const last = new Map<string, TimerCommand>();
  for (const command of commands) {
    last.delete(command.data.deadlineId);
    last.set(command.data.deadlineId, command);
  }
  const cancelled: string[] = [];
  const scheduled: ScheduleTimeoutData[] = [];
  for (const command of last.values()) {
    switch (command.type) {
      case 'ScheduleTimeout':
        scheduled.push(command.data);
        break;
      case 'CancelTimeout':
        cancelled.push(command.data.deadlineId);
        break;
      default: {
        const unreachable: never = command;
        throw new Error(`unknown timer command ${JSON.stringify(unreachable)}`);
      }
    }
  }
  return { cancelled, scheduled };
}

/** A fired timer is done once handled; a deadline rescheduled since (another attempt) stays. */
export async function completeTimeout(client: PoolClient, paymentId: string, deadlineId: string, attempt: number): Promise<void> {
  await client.query('delete from payments.timeouts where payment_id = $1 and deadline_id = $2 and attempt = $3', [paymentId, deadlineId, attempt]);
}

export interface DueTimeout {
  paymentId: string;
  deadlineId: string;
  wait: PaymentWait;
  attempt: number;
  dueAt: string;
  correlationId: string;
}

/**
 * Claims up to `limit` due timers that no scheduler published in the last `quietMs`, marking them in
 * the same statement; rows another instance is claiming are skipped (a second publication is
 * harmless: the process ignores a wait that is no longer open).
 */
export async function claimDueTimeouts(pool: Pool, now: Date, quietMs: number, limit: number): Promise<DueTimeout[]> {
  const { rows } = await pool.query<{ payment_id: string; deadline_id: string; wait: PaymentWait; attempt: number; due_at: Date; correlation_id: string }>(
    `update payments.timeouts set fire_requested_at = $1
     where (payment_id, deadline_id) in (
       select payment_id, deadline_id from payments.timeouts
       where due_at <= $1 and (fire_requested_at is null or fire_requested_at <= $1::timestamptz - make_interval(secs => $2::double precision / 1000))
       order by due_at
       limit $3
       for update skip locked)
     returning payment_id, deadline_id, wait, attempt, due_at, correlation_id`,
    [now, quietMs, limit],
  );
  return rows.map((row) => ({
    paymentId: row.payment_id, deadlineId: row.deadline_id, wait: row.wait, attempt: row.attempt, dueAt: row.due_at.toISOString(), correlationId: row.correlation_id,
  }));
}

/** The payment that asked for a hold, or undefined for a hold no payment asked for. */
export async function paymentOfHold(client: PoolClient, holdId: string): Promise<string | undefined> {
  const { rows } = await client.query<{ payment_id: string }>('select payment_id from payments.payment_holds where hold_id = $1', [holdId]);
  return rows[0]?.payment_id;
}
