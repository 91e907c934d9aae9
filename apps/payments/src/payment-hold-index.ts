import type { PoolClient } from 'pg';
import { BoundedCache } from './bounded-cache.js';
import { paymentOfHold } from './payment-tables.js';

/** Holds remembered at most; ~150 bytes each. */
const DEFAULT_CAPACITY = 50_000;

/**
 * The hold -> payment index (payments.payment_holds) as this process knows it, so that the ledger's
 * answer for a hold or transfer this process asked for costs no lookup. An entry never changes once
 * written: a hold id is derived from the message that asked for it, which is about one payment, and
 * a decision rolled back and taken again asks for the same hold for the same payment (one rolled
 * back for good was never published, so nothing answers for its hold). A hold not remembered (asked
 * for before a restart or by another instance, or no payment's at all) is looked up in the table.
 */
export class PaymentHoldIndex {
  private readonly known: BoundedCache<string, string>;

  constructor(capacity = DEFAULT_CAPACITY) {
    this.known = new BoundedCache(capacity);
  }

  /** The payment that asked for the hold (or transfer), or undefined when no payment did. */
  async paymentOf(client: PoolClient, holdId: string): Promise<string | undefined> {
    const known = this.known.get(holdId);
    if (known !== undefined) return known;
    const paymentId = await paymentOfHold(client, holdId);
    if (paymentId !== undefined) this.known.set(holdId, paymentId);
    return paymentId;
  }

  /** Called with the holds a decision recorded in payments.payment_holds. */
  remember(paymentId: string, holdIds: readonly string[]): void {
    for (const holdId of holdIds) this.known.set(holdId, paymentId);
  }
}
