import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query } from '@nestjs/common';
import { MANAGED_LIST_FIELDS, MANAGED_LIST_KINDS, parseRuleSet, RuleSetError, type ManagedListEntry, type ManagedListField, type ManagedListKind } from '@clearline/risk-domain';
import { POSTGRES_POOL, ProblemException } from '@clearline/service-runtime';
import type { Pool } from 'pg';
import {
  ActivateRuleSetRequest, AddListEntryRequest, FraudLabelRequest, ListChangesQuery, ListEntriesQuery, RemoveListEntryQuery, ShadowReportQuery, UploadRuleSetRequest,
} from './risk-admin.dto.js';
import { RiskControls } from './risk-controls.js';
import {
  activateRuleSet, activeRuleSets, addListEntry, findListChanges, findListEntries, findRuleSet, inTransaction, insertRuleSet, listRuleSets,
  removeListEntry, shadowReport, upsertFraudLabel, type ListChange, type ShadowReport, type StoredListEntry, type StoredRuleSet,
} from './risk-tables.js';

const DEFAULT_PAGE_LIMIT = 100;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * Risk's own HTTP API (port 3003; the gateway exposes it later, with analyst authentication): the
 * allow and block lists, rule set versions (upload, activate live or in shadow), the shadow report
 * and fraud labels. Every change names who and why and is kept (risk.list_changes, the rule set
 * and activation rows). Changes are in force on every instance within RISK_CONTROLS_REFRESH_MS; the
 * instance that served the request refreshes at once.
 */
@Controller('risk')
export class RiskAdminController {
  constructor(@Inject(POSTGRES_POOL) private readonly pool: Pool, private readonly controls: RiskControls) {}

  @Get('lists')
  async entries(@Query() query: ListEntriesQuery): Promise<{ entries: StoredListEntry[] }> {
    return { entries: await findListEntries(this.pool, { ...query, limit: query.limit ?? DEFAULT_PAGE_LIMIT }) };
  }

  @Get('lists/changes')
  async changes(@Query() query: ListChangesQuery): Promise<{ changes: ListChange[] }> {
    return { changes: await findListChanges(this.pool, { ...(query.before ? { beforeChangeId: query.before } : {}), limit: query.limit ?? DEFAULT_PAGE_LIMIT }) };
  }

  @Get('lists/:kind')
  async entriesOf(@Param('kind') kind: string, @Query() query: ListEntriesQuery): Promise<{ entries: StoredListEntry[] }> {
    return { entries: await findListEntries(this.pool, { ...query, kind: listKind(kind), limit: query.limit ?? DEFAULT_PAGE_LIMIT }) };
  }

  @Post('lists/:kind/entries')
  @HttpCode(201)
  async add(@Param('kind') kind: string, @Body() body: AddListEntryRequest): Promise<StoredListEntry> {
    const entry: ManagedListEntry = { kind: listKind(kind), field: body.field, value: body.value };
    const added = await addListEntry(this.pool, entry, body.reason, body.actor);
    if (!added) {
      const [existing] = await findListEntries(this.pool, { ...entry, limit: 1 });
      throw new ProblemException(409, 'list-entry-exists', 'Already on the list', `${entry.field} '${entry.value}' is already on the ${entry.kind} list`, { entry: existing ?? null });
    }
    await this.controls.refresh();
    return added;
  }

  @Delete('lists/:kind/entries/:field/:value')
  async remove(@Param('kind') kind: string, @Param('field') field: string, @Param('value') value: string, @Query() query: RemoveListEntryQuery): Promise<StoredListEntry> {
    const entry: ManagedListEntry = { kind: listKind(kind), field: listField(field), value };
    const removed = await removeListEntry(this.pool, entry, query.reason, query.actor);
    if (!removed) throw new ProblemException(404, 'list-entry-not-found', 'Not on the list', `${entry.field} '${value}' is not on the ${entry.kind} list`);
    await this.controls.refresh();
    return removed;
  }

  @Get('rule-sets')
  async ruleSets(): Promise<{ active: { live: string; shadow: string | null }; ruleSets: Omit<StoredRuleSet, 'document'>[] }> {
    const active = await activeRuleSets(this.pool);
    const scorers = this.controls.scorers();
    return {
      active: { live: scorers.live.ruleSet.version, shadow: active.shadow?.version ?? null },
      ruleSets: await listRuleSets(this.pool, DEFAULT_PAGE_LIMIT),
    };
  }

  @Get('rule-sets/:version')
  async ruleSet(@Param('version') version: string): Promise<StoredRuleSet> {
    const stored = await findRuleSet(this.pool, version);
    if (!stored) throw new ProblemException(404, 'rule-set-not-found', 'Rule set not found', `no stored rule set version '${version}'`);
    return stored;
  }

  /**
   * Stores a new rule set version after full validation; a bad one is refused with every problem
   * named (422) and whatever is in force stays. With `activate` it goes live or into shadow at once.
   */
  @Post('rule-sets')
  @HttpCode(201)
  async upload(@Body() body: UploadRuleSetRequest): Promise<{ version: string; created: boolean; activated: string | null }> {
    let version: string;
    try {
      version = parseRuleSet(body.ruleSet).version;
    } catch (error) {
      if (!(error instanceof RuleSetError)) throw error;
      throw new ProblemException(422, 'invalid-rule-set', 'Invalid rule set', error.problems.join('; '), { problems: error.problems });
    }
    const outcome = await inTransaction(this.pool, async (client) => {
      const stored = await insertRuleSet(client, version, body.ruleSet, body.actor, body.reason);
      if (stored !== 'conflict' && body.activate) await activateRuleSet(client, body.activate, version, body.actor, body.reason);
      return stored;
    });
    if (outcome === 'conflict') {
      throw new ProblemException(409, 'rule-set-version-exists', 'Rule set version exists', `version '${version}' is already stored with different content: versions are immutable, upload under a new version`);
    }
    await this.controls.refresh();
    return { version, created: outcome === 'created', activated: body.activate ?? null };
  }

  /** Puts a stored version live or in shadow; version null switches shadow off, or puts the shipped file back live. */
  @Put('rule-sets/active/:role')
  async activate(@Param('role') role: string, @Body() body: ActivateRuleSetRequest): Promise<{ role: string; version: string | null }> {
    if (role !== 'live' && role !== 'shadow') throw new ProblemException(404, 'not-found', 'Not found', `no role '${role}' (live or shadow)`);
    if (body.version !== null && !(await findRuleSet(this.pool, body.version))) {
      throw new ProblemException(404, 'rule-set-not-found', 'Rule set not found', `no stored rule set version '${body.version}': upload it first`);
    }
    await inTransaction(this.pool, (client) => activateRuleSet(client, role, body.version, body.actor, body.reason));
    await this.controls.refresh();
    return { role, version: body.version };
  }

  /** How the candidate in shadow agreed with the live decisions (since a time, for one version). */
  @Get('shadow/report')
  async shadow(@Query() query: ShadowReportQuery): Promise<ShadowReport> {
    return shadowReport(this.pool, { since: query.since ? new Date(query.since) : null, shadowRuleSetVersion: query.shadowRuleSetVersion ?? null });
  }

  /** What became known about a payment (a chargeback, an analyst's finding): used by backtests. */
  @Put('labels/:paymentId')
  async label(@Param('paymentId') paymentId: string, @Body() body: FraudLabelRequest): Promise<{ paymentId: string; fraud: boolean }> {
    if (!UUID.test(paymentId)) throw new ProblemException(400, 'invalid-payment-id', 'Invalid payment id', `'${paymentId}' is not a uuid`);
    await upsertFraudLabel(this.pool, paymentId, body.fraud, body.reason, body.actor);
    return { paymentId, fraud: body.fraud };
  }
}

function listKind(kind: string): ManagedListKind {
  if (!(MANAGED_LIST_KINDS as readonly string[]).includes(kind)) throw new ProblemException(404, 'list-not-found', 'No such list', `no list '${kind}' (allow or block)`);
  return kind as ManagedListKind;
}

function listField(field: string): ManagedListField {
  if (!(MANAGED_LIST_FIELDS as readonly string[]).includes(field)) {
    throw new ProblemException(404, 'list-not-found', 'No such list field', `no list field '${field}' (${MANAGED_LIST_FIELDS.join(', ')})`);
  }
  return field as ManagedListField;
}
