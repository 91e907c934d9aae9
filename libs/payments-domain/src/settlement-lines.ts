// The lines (captured payments and refunds) of one settlement batch, in arrival order, with lookup by id.

export interface SettlementPaymentLine {
  readonly kind: 'payment';
  readonly paymentId: string;
  readonly amountMinor: bigint;
  readonly feeMinor: bigint;
  readonly capturedAt: string;
}

export interface SettlementRefundLine {
  readonly kind: 'refund';
  readonly paymentId: string;
  readonly refundId: string;
  readonly amountMinor: bigint;
  readonly refundedAt: string;
}

export type SettlementLine = SettlementPaymentLine | SettlementRefundLine;

interface Storage {
  lines: SettlementLine[];
  paymentIndex: Map<string, number>;
  refundIndex: Map<string, number>;
}

/**
 * An immutable list of lines whose appends cost O(1), so replaying a batch of n lines is O(n) and
 * not the O(n^2) of copying the list on every event.
 *
 * Successive states share one storage: `append` writes into it only when this log is its newest
 * version (its size is the storage's length); a log that is not (an older state evolved a second
 * time, as tests and what-if decisions do) copies its own prefix first. Every read is bounded by
 * `size`, so an older state never sees a line appended after it.
 */
export class SettlementLineLog {
  private constructor(private readonly storage: Storage, readonly size: number) {}

  static empty(): SettlementLineLog {
    return new SettlementLineLog({ lines: [], paymentIndex: new Map(), refundIndex: new Map() }, 0);
  }

  append(line: SettlementLine): SettlementLineLog {
    const storage = this.storage.lines.length === this.size ? this.storage : this.copyOfPrefix();
    const position = storage.lines.length;
    storage.lines.push(line);
    if (line.kind === 'payment') storage.paymentIndex.set(line.paymentId, position);
    else storage.refundIndex.set(line.refundId, position);
    return new SettlementLineLog(storage, position + 1);
  }

  payment(paymentId: string): SettlementPaymentLine | undefined {
    const line = this.at(this.storage.paymentIndex.get(paymentId));
    return line?.kind === 'payment' ? line : undefined;
  }

  refund(refundId: string): SettlementRefundLine | undefined {
    const line = this.at(this.storage.refundIndex.get(refundId));
    return line?.kind === 'refund' ? line : undefined;
  }

  /** A copy of the lines in arrival order. */
  toArray(): SettlementLine[] {
    return this.storage.lines.slice(0, this.size);
  }

  private at(position: number | undefined): SettlementLine | undefined {
    return position !== undefined && position < this.size ? this.storage.lines[position] : undefined;
  }

  private copyOfPrefix(): Storage {
    const copy: Storage = { lines: [], paymentIndex: new Map(), refundIndex: new Map() };
    for (const line of this.storage.lines.slice(0, this.size)) {
      if (line.kind === 'payment') copy.paymentIndex.set(line.paymentId, copy.lines.length);
      else copy.refundIndex.set(line.refundId, copy.lines.length);
      copy.lines.push(line);
    }
    return copy;
  }
}
