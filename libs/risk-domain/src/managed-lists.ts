import type { RuleAction } from './rule-set.js';
import type { RiskPayment } from './features.js';

/**
 * Allow and block lists managed by analysts over the risk API (apps/risk), as opposed to the list
 * rules written into a rule set. They are checked first in their phase: an allow-listed payment is
 * approved before any rule runs; a block-listed one is declined before the other block rules. The
 * decision names the list as its rule (`blocklist_device`), so a declined payment says why.
 */
export const MANAGED_LIST_KINDS = ['allow', 'block'] as const;
export type ManagedListKind = (typeof MANAGED_LIST_KINDS)[number];

/** What an entry can name: accounts, card fingerprints (never card numbers), devices, IP addresses. */
export const MANAGED_LIST_FIELDS = ['payerAccountId', 'cardFingerprint', 'deviceId', 'ipAddress'] as const;
export type ManagedListField = (typeof MANAGED_LIST_FIELDS)[number];

const FIELD_CODES: Record<ManagedListField, string> = { payerAccountId: 'payer', cardFingerprint: 'card', deviceId: 'device', ipAddress: 'ip' };

/** The id of the pseudo-rule a list entry fires as, which is also the decision's reason code. */
export function managedListRuleId(kind: ManagedListKind, field: ManagedListField): string {
  return `${kind}list_${FIELD_CODES[field]}`;
}

/** Answers whether a value is on a list; the service keeps a cached copy, a backtest replays recorded hits. */
export interface ManagedLists {
  has(kind: ManagedListKind, field: ManagedListField, value: string): boolean;
}

export const NO_MANAGED_LISTS: ManagedLists = { has: () => false };

export interface ManagedListEntry {
  kind: ManagedListKind;
  field: ManagedListField;
  value: string;
}

/** An immutable in-memory copy of the lists, one set per kind and field: O(1) per lookup. */
export class ManagedListSet implements ManagedLists {
  private readonly sets = new Map<string, Set<string>>();
  readonly size: number;

  constructor(entries: Iterable<ManagedListEntry>) {
    let size = 0;
    for (const entry of entries) {
      const key = `${entry.kind}:${entry.field}`;
      let values = this.sets.get(key);
      if (!values) this.sets.set(key, (values = new Set()));
      values.add(entry.value);
      size += 1;
    }
    this.size = size;
  }

  has(kind: ManagedListKind, field: ManagedListField, value: string): boolean {
    return this.sets.get(`${kind}:${field}`)?.has(value) ?? false;
  }
}

/** A list hit as recorded with a decision: `block:deviceId` (the value is the payment's own field). */
export type ManagedListHit = `${ManagedListKind}:${ManagedListField}`;

/** Every list the payment is on, in a fixed order; recorded with each decision so a backtest can replay it. */
export function managedListHits(payment: RiskPayment, lists: ManagedLists): ManagedListHit[] {
  const hits: ManagedListHit[] = [];
  for (const kind of MANAGED_LIST_KINDS) {
    for (const field of MANAGED_LIST_FIELDS) {
      const value = payment[field];
      if (value !== null && lists.has(kind, field, value)) hits.push(`${kind}:${field}`);
    }
  }
  return hits;
}

/** The lists as they stood for one recorded payment: exactly its recorded hits. */
export function listsFromHits(hits: readonly string[]): ManagedLists {
  const set = new Set(hits);
  return { has: (kind, field) => set.has(`${kind}:${field}`) };
}

/** The first list entry matching in a phase (allow or block; review has no managed list). */
export function managedListMatch(phase: RuleAction, payment: RiskPayment, lists: ManagedLists): { id: string; action: RuleAction } | undefined {
  if (phase === 'review') return undefined;
  for (const field of MANAGED_LIST_FIELDS) {
    const value = payment[field];
    if (value !== null && lists.has(phase, field, value)) return { id: managedListRuleId(phase, field), action: phase };
  }
  return undefined;
}
