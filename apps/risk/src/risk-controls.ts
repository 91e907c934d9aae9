import { Inject, Injectable, Optional, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import {
  ManagedListSet, NO_MANAGED_LISTS, parseRiskModel, parseRuleSet, RuleSetError, type ManagedLists, type RiskModel, type RiskScorer, type RuleSet,
} from '@clearline/risk-domain';
import { LOGGER, POSTGRES_POOL, type Logger } from '@clearline/service-runtime';
import { readFileSync } from 'node:fs';
import type { Pool } from 'pg';
import type { RiskConfiguration } from './risk-configuration.js';
import { activeRuleSets, loadListEntries, readRevisions, type Revisions } from './risk-tables.js';
import { RISK_CONFIGURATION } from './risk.tokens.js';

/** How often an instance looks for list and rule set changes: the bound on how stale its copy can be. */
export const DEFAULT_CONTROLS_REFRESH_MS = 1_000;

export interface RiskScorers {
  live: Required<RiskScorer>;
  /** The candidate running beside the live scorer; null when shadow mode is off. */
  shadow: RiskScorer | null;
}

/**
 * What decides payments right now: the live rule set (the latest activated version, or the shipped
 * file until one is activated), the candidate in shadow, the model and the analysts' lists. Each
 * instance keeps them in memory, so a decision reads no database, and polls `risk.revisions` every
 * RISK_CONTROLS_REFRESH_MS (default 1 s): a change made through any instance's API is in force on
 * every instance within about that long. A stored rule set that fails validation here (it was
 * checked on upload, so only a newer service with stricter rules could refuse it) is logged and the
 * previous one stays in force.
 */
@Injectable()
export class RiskControls implements OnApplicationBootstrap, OnApplicationShutdown {
  private liveRuleSet: RuleSet;
  private shadowRuleSet: RuleSet | null = null;
  private readonly shadowModel: RiskModel | null;
  private lists: ManagedLists = NO_MANAGED_LISTS;
  private seen: Revisions | null = null;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | null = null;
  private readonly refreshMs: number;

  constructor(
    @Inject(RISK_CONFIGURATION) private readonly configuration: RiskConfiguration,
    @Optional() @Inject(POSTGRES_POOL) private readonly pool: Pool | null,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.liveRuleSet = configuration.ruleSet;
    this.shadowModel = loadShadowModel(logger);
    this.refreshMs = refreshIntervalMs(process.env['RISK_CONTROLS_REFRESH_MS']);
  }

  async onApplicationBootstrap(): Promise<void> {
    // The first load is awaited: a payment must not be decided without the lists in force.
    await this.refresh();
    this.timer = setInterval(() => {
      this.refresh().catch((error: unknown) => this.logger.warn({ err: error }, 'risk controls refresh failed; the previous copy stays in force'));
    }, this.refreshMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  get merchantProfiles(): RiskConfiguration['merchantProfiles'] {
    return this.configuration.merchantProfiles;
  }

  scorers(): RiskScorers {
    const live: Required<RiskScorer> = { ruleSet: this.liveRuleSet, model: this.configuration.model, lists: this.lists };
    const shadow = this.shadowRuleSet || this.shadowModel
      ? { ruleSet: this.shadowRuleSet ?? this.liveRuleSet, model: this.shadowModel ?? this.configuration.model, lists: this.lists }
      : null;
    return { live, shadow };
  }

  /** Reloads what changed since the last look; concurrent callers share one reload. */
  refresh(): Promise<void> {
    if (!this.pool) return Promise.resolve();
    this.refreshing ??= this.reload(this.pool).finally(() => { this.refreshing = null; });
    return this.refreshing;
  }

  private async reload(pool: Pool): Promise<void> {
    // Revisions first: what is loaded after is at least as new as the revisions remembered.
    const revisions = await readRevisions(pool);
    if (this.seen === null || revisions.lists !== this.seen.lists) {
      const lists = new ManagedListSet(await loadListEntries(pool));
      this.lists = lists;
      this.logger.info({ entries: lists.size, revision: revisions.lists.toString() }, 'risk lists loaded');
    }
    if (this.seen === null || revisions.ruleSets !== this.seen.ruleSets) this.applyRuleSets(await activeRuleSets(pool));
    this.seen = revisions;
  }

  private applyRuleSets(active: Awaited<ReturnType<typeof activeRuleSets>>): void {
    // No live activation, or one without a version: the shipped file is live.
    const live = active.live?.version ? this.parseStored(active.live.document, 'live') : this.configuration.ruleSet;
    if (live) this.liveRuleSet = live;
    if (!active.shadow || active.shadow.version === null) this.shadowRuleSet = null;
    else this.shadowRuleSet = this.parseStored(active.shadow.document, 'shadow') ?? this.shadowRuleSet;
    this.logger.info({ live: this.liveRuleSet.version, shadow: this.shadowRuleSet?.version ?? null, shadowModel: this.shadowModel?.version ?? null }, 'risk rule sets in force');
  }

  private parseStored(document: unknown, role: string): RuleSet | null {
    try {
      return parseRuleSet(document);
    } catch (error) {
      this.logger.error({ err: error, role, problems: error instanceof RuleSetError ? error.problems : undefined }, 'stored rule set refused; the previous one stays in force');
      return null;
    }
  }
}

function refreshIntervalMs(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_CONTROLS_REFRESH_MS;
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 50 || ms > 60_000) throw new Error(`RISK_CONTROLS_REFRESH_MS must be an integer from 50 to 60000, got '${value}'`);
  return ms;
}

/** RISK_SHADOW_MODEL_PATH: a candidate model to run in shadow; an unreadable one is logged and ignored. */
function loadShadowModel(logger: Logger): RiskModel | null {
  const path = process.env['RISK_SHADOW_MODEL_PATH'];
  if (!path) return null;
  try {
    return parseRiskModel(JSON.parse(readFileSync(path, 'utf8')));
  } catch (error) {
    logger.error({ err: error, path }, 'shadow model unavailable: shadow mode runs without it');
    return null;
  }
}
