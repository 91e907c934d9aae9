// The risk schema of apps/risk/migrations/0001_risk_controls.sql: managed lists and their audit
// trail, rule set versions and activations, shadow decisions and fraud labels. Plain SQL, one
// function per statement group; callers own transactions where one is needed.
import type { ManagedListEntry, ManagedListField, ManagedListKind } from '@clearline/risk-domain';
import type { Pool, PoolClient } from 'pg';

type Queryable = Pool | PoolClient;

export interface StoredListEntry extends ManagedListEntry {
  reason: string;
  addedBy: string;
  addedAt: string;
}

export interface ListChange {
  changeId: string;
  action: 'add' | 'remove';
  kind: ManagedListKind;
  field: ManagedListField;
  value: string;
  reason: string;
  actor: string;
  changedAt: string;
}

export interface Revisions {
  lists: bigint;
  ruleSets: bigint;
}

/** Bound on the entries an instance loads into memory; more is a configuration error, not load. */
export const MAX_LIST_ENTRIES = 1_000_000;

export async function readRevisions(queryable: Queryable): Promise<Revisions> {
  const { rows } = await queryable.query<{ name: string; revision: string }>('select name, revision from risk.revisions');
  const byName = new Map(rows.map((row) => [row.name, BigInt(row.revision)]));
  return { lists: byName.get('lists') ?? 0n, ruleSets: byName.get('rule_sets') ?? 0n };
}

/**
 * Bumped in every change's transaction: tells pollers something moved. The row lock makes concurrent
 * changes take turns, so revisions become visible in commit order and a poller never sees a revision
 * whose change is not yet readable.
 */
async function bumpRevision(client: PoolClient, name: 'lists' | 'rule_sets'): Promise<void> {
  await client.query('update risk.revisions set revision = revision + 1 where name = $1', [name]);
}

export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const result = await work(client);
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

const ENTRY_COLUMNS = `kind, field, value, reason, added_by as "addedBy", to_char(added_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "addedAt"`;

/** Adds an entry and its audit row; null when the value is already on that list (nothing changes). */
export async function addListEntry(pool: Pool, entry: ManagedListEntry, reason: string, actor: string): Promise<StoredListEntry | null> {
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query<StoredListEntry>(
      `insert into risk.list_entries (kind, field, value, reason, added_by) values ($1, $2, $3, $4, $5)
       on conflict do nothing returning ${ENTRY_COLUMNS}`,
      [entry.kind, entry.field, entry.value, reason, actor],
    );
    if (rows.length === 0) return null;
    await bumpRevision(client, 'lists');
    await client.query(
      `insert into risk.list_changes (action, kind, field, value, reason, actor) values ('add', $1, $2, $3, $4, $5)`,
      [entry.kind, entry.field, entry.value, reason, actor],
    );
    return rows[0]!;
  });
}

/** Removes an entry and records who and why; null when it was not on the list. */
export async function removeListEntry(pool: Pool, entry: ManagedListEntry, reason: string, actor: string): Promise<StoredListEntry | null> {
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query<StoredListEntry>(
      `delete from risk.list_entries where kind = $1 and field = $2 and value = $3 returning ${ENTRY_COLUMNS}`,
      [entry.kind, entry.field, entry.value],
    );
    if (rows.length === 0) return null;
    await bumpRevision(client, 'lists');
    await client.query(
      `insert into risk.list_changes (action, kind, field, value, reason, actor) values ('remove', $1, $2, $3, $4, $5)`,
      [entry.kind, entry.field, entry.value, reason, actor],
    );
    return rows[0]!;
  });
}

export async function findListEntries(
  queryable: Queryable,
  filter: { kind?: ManagedListKind; field?: ManagedListField; value?: string; limit: number },
): Promise<StoredListEntry[]> {
  const { rows } = await queryable.query<StoredListEntry>(
    `select ${ENTRY_COLUMNS} from risk.list_entries
     where ($1::text is null or kind = $1) and ($2::text is null or field = $2) and ($3::text is null or value = $3)
     order by added_at desc, kind, field, value limit $4`,
    [filter.kind ?? null, filter.field ?? null, filter.value ?? null, filter.limit],
  );
  return rows;
}

/** Every entry, for an instance's cache. */
export async function loadListEntries(queryable: Queryable): Promise<ManagedListEntry[]> {
  const { rows } = await queryable.query<ManagedListEntry>(`select kind, field, value from risk.list_entries limit ${MAX_LIST_ENTRIES + 1}`);
  if (rows.length > MAX_LIST_ENTRIES) throw new Error(`more than ${MAX_LIST_ENTRIES} managed list entries: refusing to cache them`);
  return rows;
}

export async function findListChanges(queryable: Queryable, filter: { beforeChangeId?: string; limit: number }): Promise<ListChange[]> {
  const { rows } = await queryable.query<ListChange>(
    `select change_id::text as "changeId", action, kind, field, value, reason, actor,
            to_char(changed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "changedAt"
     from risk.list_changes where ($1::bigint is null or change_id < $1) order by change_id desc limit $2`,
    [filter.beforeChangeId ?? null, filter.limit],
  );
  return rows;
}

export interface StoredRuleSet {
  version: string;
  document: unknown;
  uploadedBy: string;
  reason: string;
  uploadedAt: string;
}

const RULE_SET_COLUMNS = `version, document, uploaded_by as "uploadedBy", reason, to_char(uploaded_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "uploadedAt"`;

/**
 * Stores a validated rule set version. 'created' for a new version, 'same' when this exact document
 * is already stored under it, 'conflict' when the version holds a different document (versions are
 * immutable, so what ran under a version can always be told).
 */
export async function insertRuleSet(client: PoolClient, version: string, document: unknown, actor: string, reason: string): Promise<'created' | 'same' | 'conflict'> {
  await bumpRevision(client, 'rule_sets');
  const inserted = await client.query(
    'insert into risk.rule_sets (version, document, uploaded_by, reason) values ($1, $2, $3, $4) on conflict (version) do nothing',
    [version, JSON.stringify(document), actor, reason],
  );
  if (inserted.rowCount === 1) return 'created';
  const { rows } = await client.query<{ same: boolean }>('select document = $2::jsonb as same from risk.rule_sets where version = $1', [version, JSON.stringify(document)]);
  return rows[0]?.same ? 'same' : 'conflict';
}

export async function findRuleSet(queryable: Queryable, version: string): Promise<StoredRuleSet | null> {
  const { rows } = await queryable.query<StoredRuleSet>(`select ${RULE_SET_COLUMNS} from risk.rule_sets where version = $1`, [version]);
  return rows[0] ?? null;
}

export async function listRuleSets(queryable: Queryable, limit: number): Promise<Omit<StoredRuleSet, 'document'>[]> {
  const { rows } = await queryable.query<StoredRuleSet>(`select ${RULE_SET_COLUMNS} from risk.rule_sets order by uploaded_at desc limit $1`, [limit]);
  return rows.map(({ document: _document, ...rest }) => rest);
}

export type RuleSetRole = 'live' | 'shadow';

export async function activateRuleSet(client: PoolClient, role: RuleSetRole, version: string | null, actor: string, reason: string): Promise<void> {
  await bumpRevision(client, 'rule_sets');
  await client.query('insert into risk.rule_set_activations (role, version, activated_by, reason) values ($1, $2, $3, $4)', [role, version, actor, reason]);
}

export interface ActiveRuleSet {
  role: RuleSetRole;
  version: string | null;
  document: unknown;
  activatedBy: string;
  reason: string;
  activatedAt: string;
}

/** The rule set in force per role (latest activation); a role never activated is absent. */
export async function activeRuleSets(queryable: Queryable): Promise<Partial<Record<RuleSetRole, ActiveRuleSet>>> {
  const { rows } = await queryable.query<ActiveRuleSet>(
    `select distinct on (a.role) a.role, a.version, s.document, a.activated_by as "activatedBy", a.reason,
            to_char(a.activated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "activatedAt"
     from risk.rule_set_activations a left join risk.rule_sets s on s.version = a.version
     order by a.role, a.activation_id desc`,
  );
  return Object.fromEntries(rows.map((row) => [row.role, row]));
}

export interface ShadowDecisionRow {
  paymentId: string;
  merchantId: string;
  live: { ruleSetVersion: string; modelVersion: string | null; decision: string; score: number };
  shadow: { ruleSetVersion: string; modelVersion: string | null; decision: string; score: number; reasons: string[] };
}

export async function insertShadowDecision(client: PoolClient, row: ShadowDecisionRow): Promise<void> {
  await client.query(
    `insert into risk.shadow_decisions (payment_id, merchant_id, live_rule_set_version, live_model_version, live_decision, live_score,
       shadow_rule_set_version, shadow_model_version, shadow_decision, shadow_score, shadow_reasons)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) on conflict (payment_id) do nothing`,
    [row.paymentId, row.merchantId, row.live.ruleSetVersion, row.live.modelVersion, row.live.decision, row.live.score,
      row.shadow.ruleSetVersion, row.shadow.modelVersion, row.shadow.decision, row.shadow.score, row.shadow.reasons],
  );
}

export interface ShadowReport {
  since: string | null;
  shadowRuleSetVersion: string | null;
  payments: number;
  agreed: number;
  disagreed: number;
  /** agreed / payments, null with no payments. */
  agreementRate: number | null;
  /** live -> shadow decision pairs that differ, with their counts. */
  transitions: Record<string, number>;
  /** The latest disagreements, for a look at why. */
  examples: { paymentId: string; live: string; shadow: string; shadowReasons: string[]; decidedAt: string }[];
}

export async function shadowReport(queryable: Queryable, filter: { since: Date | null; shadowRuleSetVersion: string | null }): Promise<ShadowReport> {
  const parameters = [filter.since, filter.shadowRuleSetVersion];
  const where = '($1::timestamptz is null or decided_at >= $1) and ($2::text is null or shadow_rule_set_version = $2)';
  const { rows } = await queryable.query<{ live: string; shadow: string; count: string }>(
    `select live_decision as live, shadow_decision as shadow, count(*)::text as count from risk.shadow_decisions where ${where} group by 1, 2`,
    parameters,
  );
  const examples = await queryable.query<{ paymentId: string; live: string; shadow: string; shadowReasons: string[]; decidedAt: string }>(
    `select payment_id as "paymentId", live_decision as live, shadow_decision as shadow, shadow_reasons as "shadowReasons",
            to_char(decided_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "decidedAt"
     from risk.shadow_decisions where ${where} and live_decision <> shadow_decision order by decided_at desc limit 20`,
    parameters,
  );
  let payments = 0;
  let agreed = 0;
  const transitions: Record<string, number> = {};
  for (const row of rows) {
    const count = Number(row.count);
    payments += count;
    if (row.live === row.shadow) agreed += count;
    else transitions[`${row.live}->${row.shadow}`] = count;
  }
  return {
    since: filter.since?.toISOString() ?? null,
    shadowRuleSetVersion: filter.shadowRuleSetVersion,
    payments,
    agreed,
    disagreed: payments - agreed,
    agreementRate: payments === 0 ? null : Math.round((agreed / payments) * 10_000) / 10_000,
    transitions,
    examples: examples.rows,
  };
}

export async function upsertFraudLabel(pool: Pool, paymentId: string, fraud: boolean, reason: string, actor: string): Promise<void> {
  await pool.query(
    `insert into risk.fraud_labels (payment_id, fraud, reason, labelled_by) values ($1, $2, $3, $4)
     on conflict (payment_id) do update set fraud = excluded.fraud, reason = excluded.reason, labelled_by = excluded.labelled_by, labelled_at = now()`,
    [paymentId, fraud, reason, actor],
  );
}
