import type { PaymentWait } from '@clearline/contracts';
import type { ScheduleTimeoutData, TimerCommand } from '@clearline/payments-domain';
import type { Pool, PoolClient } from 'pg';

/**
 * The payments schema (apps/payments/migrations). `payments.timeouts`: the open waits of payments and when each is due.
 * Written in the transaction that appends the payment's events; the scheduler reads it, and the
 * process decides on the payment's stream whether a fired wait is still open.
 */

/** Applies the process's timer outputs; scheduling a deadline again replaces its time and attempt. */
export async function applyTimerCommands(client: PoolClient, paymentId: string, correlationId: string, commands: readonly TimerCommand[]): Promise<void> {
  for (const command of commands) {
    switch (command.type) {
      case 'ScheduleTimeout':
        await schedule(client, paymentId, correlationId, command.data);
        break;
      case 'CancelTimeout':
        await client.query('delete from payments.timeouts where payment_id = $1 and deadline_id = $2', [paymentId, command.data.deadlineId]);
        break;
      default: {
        const unreachable: never = command;
        throw new Error(`unknown timer command ${JSON.stringify(unreachable)}`);
      }
    }
  }
}

async function schedule(client: PoolClient, paymentId: string, correlationId: string, timeout: ScheduleTimeoutData): Promise<void> {
  await client.query(
    `insert into payments.timeouts (payment_id, deadline_id, wait, attempt, due_at, correlation_id) values ($1, $2, $3, $4, $5, $6)
     on conflict (payment_id, deadline_id) do update
       set wait = excluded.wait, attempt = excluded.attempt, due_at = excluded.due_at, correlation_id = excluded.correlation_id, fire_requested_at = null`,
    [paymentId, timeout.deadlineId, timeout.wait, timeout.attempt, timeout.dueAt, correlationId],
  );
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

/** Remembers which payment a hold belongs to (see the migration), in the transaction that asks for the hold. */
export async function recordPaymentHolds(client: PoolClient, paymentId: string, holdIds: readonly string[]): Promise<void> {
  for (const holdId of holdIds) {
    await client.query('insert into payments.payment_holds (hold_id, payment_id) values ($1, $2) on conflict (hold_id) do nothing', [holdId, paymentId]);
  }
}

/** The payment that asked for a hold, or undefined for a hold no payment asked for. */
export async function paymentOfHold(client: PoolClient, holdId: string): Promise<string | undefined> {
  const { rows } = await client.query<{ payment_id: string }>('select payment_id from payments.payment_holds where hold_id = $1', [holdId]);
  return rows[0]?.payment_id;
}
