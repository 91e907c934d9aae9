import type { RecordedEvent } from '@clearline/event-store';
import type { PoolClient } from 'pg';
import { LEDGER_CATEGORIES, LEDGER_TABLES, projectLedger } from './ledger-projection.js';
import { PAYMENT_FLOW_TABLES, projectPaymentFlow } from './payment-flow.projection.js';
import { PAYMENTS_CATEGORIES, PAYMENTS_TABLES, projectPayments } from './payments.projection.js';
import { projectSettlementBatches, SETTLEMENT_BATCH_TABLES } from './settlement-batches.projection.js';

/**
 * The read models that are rebuilt and backfilled one at a time. Each has its own catch-up
 * subscription (its own checkpoint), its own tables and a batch projection that writes into
 * whichever copy of those tables it is given: the live ones (analytics.<table>) or a rebuild's
 * shadow copies. A new read model is one more entry here plus its migration; `npm run
 * analytics:rebuild <name>` then backfills it from all of history (docs/analytics.md).
 *
 * Every read model of the service is here: the per-event projection of 0001/0002
 * ('analytics:read-models:v2') is retired; its tables moved to 'payments' and 'ledger' (0004).
 */
export interface ReadModel {
  name: string;
  /** The checkpoint row's id in the event store's subscription_checkpoints. */
  subscriptionId: string;
  categories: string[];
  /** Its tables, unqualified (they live in the schema given to `apply`). */
  tables: readonly string[];
  /** Projects a batch of events in $all order; `tables` maps each table to the qualified name to write. */
  apply: (events: readonly RecordedEvent[], client: PoolClient, tables: Record<string, string>) => Promise<void>;
}

export const READ_MODELS: readonly ReadModel[] = [
  {
    name: 'payments',
    subscriptionId: 'analytics:payments:v1',
    categories: PAYMENTS_CATEGORIES,
    tables: PAYMENTS_TABLES,
    apply: (events, client, tables) => projectPayments(events, client, tables as Record<(typeof PAYMENTS_TABLES)[number], string>),
  },
  {
    name: 'ledger',
    subscriptionId: 'analytics:ledger:v1',
    categories: LEDGER_CATEGORIES,
    tables: LEDGER_TABLES,
    apply: (events, client, tables) => projectLedger(events, client, tables as Record<(typeof LEDGER_TABLES)[number], string>),
  },
  {
    name: 'payment-flow',
    subscriptionId: 'analytics:payment-flow:v1',
    categories: ['payment', 'risk'],
    tables: PAYMENT_FLOW_TABLES,
    apply: (events, client, tables) => projectPaymentFlow(events, client, tables as Record<(typeof PAYMENT_FLOW_TABLES)[number], string>),
  },
  {
    name: 'settlement-batches',
    subscriptionId: 'analytics:settlement-batches:v1',
    categories: ['settlement'],
    tables: SETTLEMENT_BATCH_TABLES,
    apply: (events, client, tables) => projectSettlementBatches(events, client, tables as Record<(typeof SETTLEMENT_BATCH_TABLES)[number], string>),
  },
];

export function readModelNamed(name: string): ReadModel {
  const model = READ_MODELS.find((candidate) => candidate.name === name);
  if (model === undefined) throw new Error(`unknown read model '${name}': one of ${READ_MODELS.map((candidate) => candidate.name).join(', ')}`);
  return model;
}

/** Qualified table names in `schema`, each with an optional suffix (a rebuild's shadow copies). */
export function tableNames(model: ReadModel, schema: string, suffix = ''): Record<string, string> {
  return Object.fromEntries(model.tables.map((table) => [table, `${schema}.${table}${suffix}`]));
}
