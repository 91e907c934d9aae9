import type { RecordedEvent } from '@clearline/event-store';
import type { PoolClient } from 'pg';
import { LEDGER_CATEGORIES, LEDGER_TABLES, LedgerFold } from './ledger-projection.js';
import { PAYMENT_FLOW_TABLES, PaymentFlowFold } from './payment-flow.projection.js';
import { PAYMENTS_CATEGORIES, PAYMENTS_TABLES, PaymentsFold } from './payments.projection.js';
import { projectWithFold, type ReadModelFold } from './read-model-fold.js';
import { SETTLEMENT_BATCH_TABLES, SettlementBatchesFold } from './settlement-batches.projection.js';

/**
 * The read models that are rebuilt and backfilled one at a time. Each has its own catch-up
 * subscription (its own checkpoint), its own tables and a fold (read-model-fold.ts) that writes
 * into whichever copy of those tables it is given: the live ones (analytics.<table>) or a rebuild's
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
  /** An empty fold of its rows (a rebuild keeps one across many pages of events). */
  newFold: () => ReadModelFold;
  /** Projects a batch of events in $all order; `tables` maps each table to the qualified name to write. */
  apply: (events: readonly RecordedEvent[], client: PoolClient, tables: Record<string, string>) => Promise<void>;
}

function readModel(definition: Omit<ReadModel, 'apply'>): ReadModel {
  return { ...definition, apply: (events, client, tables) => projectWithFold(definition.newFold(), events, client, tables) };
}

export const READ_MODELS: readonly ReadModel[] = [
  readModel({ name: 'payments', subscriptionId: 'analytics:payments:v1', categories: PAYMENTS_CATEGORIES, tables: PAYMENTS_TABLES, newFold: () => new PaymentsFold() }),
  readModel({ name: 'ledger', subscriptionId: 'analytics:ledger:v1', categories: LEDGER_CATEGORIES, tables: LEDGER_TABLES, newFold: () => new LedgerFold() }),
  readModel({ name: 'payment-flow', subscriptionId: 'analytics:payment-flow:v1', categories: ['payment', 'risk'], tables: PAYMENT_FLOW_TABLES, newFold: () => new PaymentFlowFold() }),
  readModel({
    name: 'settlement-batches', subscriptionId: 'analytics:settlement-batches:v1', categories: ['settlement'], tables: SETTLEMENT_BATCH_TABLES,
    newFold: () => new SettlementBatchesFold(),
  }),
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
