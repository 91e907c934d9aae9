import type { AllPosition } from '@clearline/event-store';
import { quoteIdentifier } from '@clearline/postgres';
import type { PoolClient } from 'pg';

/**
 * The relay's checkpoint: a row of the event store's `subscription_checkpoints`, the same row a
 * CatchUpSubscription named `outbox-relay:<name>` would use, so existing checkpoints carry over.
 * Every statement is a single autocommit statement on the leader's connection: no transaction is
 * ever held open around a publish, and only the session holding the leader lock writes the row.
 */
export class OutboxRelayCheckpoint {
  private readonly table: string;

  constructor(
    schema: string,
    readonly subscriptionId: string,
  ) {
    this.table = `${quoteIdentifier(schema)}.subscription_checkpoints`;
  }

  /** Creates the row at START the first time, then returns the stored position. */
  async load(client: PoolClient): Promise<AllPosition> {
    await client.query(`insert into ${this.table} (subscription_id, transaction_id, global_position) values ($1, '0', 0) on conflict (subscription_id) do nothing`, [
      this.subscriptionId,
    ]);
    return this.read(client);
  }

  /**
   * Moves the checkpoint from `from` to `to` and returns `to`; if the row no longer holds `from`
   * (an operator set it back for a replay, or a deposed leader's late write), leaves it alone and
   * returns what it holds, so the relay continues from there.
   */
  async advance(client: PoolClient, from: AllPosition, to: AllPosition): Promise<{ position: AllPosition; moved: boolean }> {
    const result = await client.query(
      `update ${this.table} set transaction_id = $4::xid8, global_position = $5, updated_at = now()
       where subscription_id = $1 and transaction_id = $2::xid8 and global_position = $3`,
      [this.subscriptionId, from.transactionId.toString(), from.globalPosition.toString(), to.transactionId.toString(), to.globalPosition.toString()],
    );
    if (result.rowCount === 1) return { position: to, moved: true };
    return { position: await this.read(client), moved: false };
  }

  private async read(client: PoolClient): Promise<AllPosition> {
    const { rows } = await client.query<{ transaction_id: string; global_position: string }>(
      `select transaction_id::text, global_position::text from ${this.table} where subscription_id = $1`,
      [this.subscriptionId],
    );
    const row = rows[0];
    if (row === undefined) throw new Error(`outbox relay checkpoint '${this.subscriptionId}' is missing`);
    return { transactionId: BigInt(row.transaction_id), globalPosition: BigInt(row.global_position) };
  }
}
