import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { POSTGRES_POOL, ProblemException } from '@clearline/service-runtime';
import type { Request, Response } from 'express';
import type { Pool } from 'pg';
import { toCsv } from './csv.js';
import { GRANULARITIES, type Granularity } from './payment-flow.projection.js';
import { IDENTIFIER, parseInstant, parseLimit } from './query-parameters.js';
import { ReadModelsWorker, type ReadModelLag } from './read-models.worker.js';

/**
 * The analysts' query API over the read models of migration 0003 (docs/analytics.md): filters,
 * time ranges, grouping, keyset cursors, CSV with `format=csv`. Every parameter is parsed strictly
 * (a 400 problem+json names the bad one); amounts leave as strings of minor units, never floats.
 */

const GROUP_COLUMNS = { channel: 'channel', merchantId: 'merchant_id', currency: 'currency' } as const;
type GroupName = keyof typeof GROUP_COLUMNS;
const CURRENCY = /^[A-Z]{3}$/;
const CHANNEL = /^[a-z_]{1,32}$/;

interface Filters {
  from?: string;
  to?: string;
  channel?: string;
  merchantId?: string;
  currency?: string;
}

/** The raw query string's values, read from the request: the service's global ValidationPipe refuses the properties of an untyped @Query() object. */
export type Query = Record<string, unknown>;

export function problem(parameter: string, detail: string): ProblemException {
  return new ProblemException(400, `invalid-${parameter.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`, `Invalid ${parameter}`, detail, { parameter });
}

export function text(query: Query, parameter: string, pattern: RegExp): string | undefined {
  const value = query[parameter];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !pattern.test(value)) throw problem(parameter, `${parameter} has an invalid value`);
  return value;
}

export function filtersOf(query: Query): Filters {
  const filters: Filters = {};
  const from = parseInstant('from', query['from']);
  const to = parseInstant('to', query['to']);
  if (from !== undefined) filters.from = from;
  if (to !== undefined) filters.to = to;
  const channel = text(query, 'channel', CHANNEL);
  const merchantId = text(query, 'merchantId', IDENTIFIER);
  const currency = text(query, 'currency', CURRENCY);
  if (channel !== undefined) filters.channel = channel;
  if (merchantId !== undefined) filters.merchantId = merchantId;
  if (currency !== undefined) filters.currency = currency;
  return filters;
}

/**
 * WHERE conditions for the filters; `timeColumn` is compared with from (inclusive) and to (exclusive).
 * A `day` column holds UTC days (the projections' dayOf): an instant becomes its UTC day here, never
 * the session's (a plain ::date would follow the server's TimeZone and shift the range by a day).
 */
export function conditions(filters: Filters, timeColumn: string, parameters: unknown[], timeColumnType: 'timestamptz' | 'utc-date' = 'timestamptz'): string[] {
  const where: string[] = [];
  const add = (sql: (placeholder: string) => string, value: unknown): void => {
    parameters.push(value);
    where.push(sql(`$${parameters.length}`));
  };
  const bound = (p: string): string => (timeColumnType === 'utc-date' ? `(${p}::timestamptz at time zone 'UTC')::date` : `${p}::timestamptz`);
  if (filters.from !== undefined) add((p) => `${timeColumn} >= ${bound(p)}`, filters.from);
  if (filters.to !== undefined) add((p) => `${timeColumn} < ${bound(p)}`, filters.to);
  if (filters.channel !== undefined) add((p) => `channel = ${p}`, filters.channel);
  if (filters.merchantId !== undefined) add((p) => `merchant_id = ${p}`, filters.merchantId);
  if (filters.currency !== undefined) add((p) => `currency = ${p}`, filters.currency);
  return where;
}

export function whereClause(where: readonly string[]): string {
  return where.length === 0 ? '' : `where ${where.join(' and ')}`;
}

function wantsCsv(query: Query): boolean {
  const format = query['format'];
  if (format === undefined || format === 'json') return false;
  if (format === 'csv') return true;
  throw problem('format', "format must be 'json' (default) or 'csv'");
}

/** Cursors are opaque: base64url of the JSON key of the last row a page returned. */
export function encodeCursor(key: unknown[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

export function decodeCursor(query: Query, length: number): string[] | undefined {
  const value = query['cursor'];
  if (value === undefined) return undefined;
  try {
    if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{1,2000}$/.test(value)) throw new Error('not base64url');
    const key: unknown = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
    if (!Array.isArray(key) || key.length !== length || !key.every((part) => typeof part === 'string')) throw new Error('wrong shape');
    return key as string[];
  } catch {
    throw problem('cursor', "cursor must be a value from a previous page's nextCursor, with the same parameters");
  }
}

function rate(part: bigint, whole: bigint): number | null {
  return whole === 0n ? null : Math.round(Number((part * 1_000_000n) / whole)) / 1_000_000;
}

@Controller('analytics')
export class InsightsController {
  constructor(@Inject(POSTGRES_POOL) private readonly pool: Pool, private readonly worker: ReadModelsWorker) {}

  /**
   * P(t) (requests) and R(t) (results: approved + declined + failed) per bucket, with outcome counts
   * and rates, grouped by any of channel, merchantId, currency (the others are summed over).
   */
  @Get('flow')
  async flow(@Req() request: Request, @Res({ passthrough: true }) response: Response): Promise<unknown> {
    const query = request.query as Query;
    const granularity = (query['granularity'] ?? 'hour') as Granularity;
    if (!GRANULARITIES.includes(granularity)) throw problem('granularity', `granularity must be one of ${GRANULARITIES.join(', ')}`);
    const groupBy = this.groupBy(query['groupBy']);
    const limit = parseLimit(query['limit']);
    const filters = filtersOf(query);
    const parameters: unknown[] = [granularity];
    const where = ['granularity = $1', ...conditions(filters, 'bucket_start', parameters)];
    const keyColumns = ['bucket_start', ...groupBy.map((name) => GROUP_COLUMNS[name])];
    const cursor = decodeCursor(query, keyColumns.length);
    if (cursor !== undefined) {
      const placeholders = cursor.map((part, index) => {
        parameters.push(part);
        return index === 0 ? `$${parameters.length}::timestamptz` : `$${parameters.length}`;
      });
      where.push(`(${keyColumns.join(', ')}) > (${placeholders.join(', ')})`);
    }
    parameters.push(limit + 1);
    const { rows } = await this.pool.query(
      `select ${keyColumns.join(', ')}, sum(requests)::text as requests, sum(requested_minor)::text as requested_minor,
              sum(approved)::text as approved, sum(approved_minor)::text as approved_minor, sum(declined)::text as declined,
              sum(failed)::text as failed, sum(in_review)::text as in_review
       from analytics.payment_flow ${whereClause(where)}
       group by ${keyColumns.join(', ')} order by ${keyColumns.join(', ')} limit $${parameters.length}`,
      parameters,
    );
    // Minor units of different currencies never add up: a row's amounts are given only when it is of
    // one currency (grouped by currency, or one currency asked for); its counts always are.
    const oneCurrencyPerRow = groupBy.includes('currency') || filters.currency !== undefined;
    const items = rows.slice(0, limit).map((row) => {
      const approved = BigInt(row.approved);
      const declined = BigInt(row.declined);
      const failed = BigInt(row.failed);
      const results = approved + declined + failed;
      const requests = BigInt(row.requests);
      return {
        bucketStart: (row.bucket_start as Date).toISOString(),
        ...Object.fromEntries(groupBy.map((name) => [name, row[GROUP_COLUMNS[name]]])),
        requests: row.requests, results: results.toString(), approved: row.approved, declined: row.declined, failed: row.failed, inReview: row.in_review,
        requestedMinor: oneCurrencyPerRow ? row.requested_minor : null, approvedMinor: oneCurrencyPerRow ? row.approved_minor : null,
        approvalRate: rate(approved, results), declineRate: rate(declined, results), reviewRate: rate(BigInt(row.in_review), requests),
      };
    });
    const last = rows.length > limit ? rows[limit - 1] : undefined;
    const nextCursor = last === undefined ? null : encodeCursor([(last.bucket_start as Date).toISOString(), ...groupBy.map((name) => last[GROUP_COLUMNS[name]])]);
    if (wantsCsv(query)) {
      const header = ['bucketStart', ...groupBy, 'requests', 'results', 'approved', 'declined', 'failed', 'inReview', 'requestedMinor', 'approvedMinor', 'approvalRate', 'declineRate', 'reviewRate'];
      return this.csv(response, header, items.map((item) => header.map((column) => (item as Record<string, unknown>)[column])), nextCursor);
    }
    return { granularity, groupBy, items, nextCursor };
  }

  /** End-to-end latency (PaymentRequested to the terminal event) of the payments completed in the range. */
  @Get('latency')
  async latency(@Req() request: Request): Promise<unknown> {
    const query = request.query as Query;
    const filters = filtersOf(query);
    const parameters: unknown[] = [];
    const where = ['completed_at is not null', ...conditions(filters, 'completed_at', parameters)];
    const outcome = text(query, 'outcome', /^(approved|declined|failed)$/);
    if (outcome !== undefined) {
      parameters.push(outcome);
      where.push(`outcome = $${parameters.length}`);
    }
    const { rows } = await this.pool.query(
      `select count(*)::text as payments,
              percentile_disc(array[0.5, 0.9, 0.95, 0.99]) within group (order by latency_ms) as percentiles, max(latency_ms) as max_ms
       from analytics.payment_outcomes ${whereClause(where)}`,
      parameters,
    );
    const row = rows[0];
    const [p50, p90, p95, p99] = (row.percentiles ?? [null, null, null, null]) as (number | null)[];
    return { payments: row.payments, latencyMsP50: p50, latencyMsP90: p90, latencyMsP95: p95, latencyMsP99: p99, latencyMsMax: row.max_ms };
  }

  /** The most frequent decline reasons over the days in the range. */
  @Get('decline-reasons')
  async declineReasons(@Req() request: Request): Promise<unknown> {
    const query = request.query as Query;
    const filters = filtersOf(query);
    const limit = parseLimit(query['limit']);
    const parameters: unknown[] = [];
    const where = conditions(filters, 'day', parameters, 'utc-date');
    parameters.push(limit);
    const { rows } = await this.pool.query(
      `select stage, reason_code, sum(declines)::text as declines from analytics.decline_reasons ${whereClause(where)}
       group by stage, reason_code order by sum(declines) desc, stage, reason_code limit $${parameters.length}`,
      parameters,
    );
    return { items: rows.map((row) => ({ stage: row.stage, reasonCode: row.reason_code, declines: row.declines })) };
  }

  /** Histogram of risk scores (by day of assessment) in buckets of `bucketWidth` points, per decision. */
  @Get('risk-scores')
  async riskScores(@Req() request: Request): Promise<unknown> {
    const query = request.query as Query;
    const widthText = text(query, 'bucketWidth', /^[1-9][0-9]{0,2}$/) ?? '10';
    const width = Number(widthText);
    if (width > 101) throw problem('bucketWidth', 'bucketWidth must be from 1 to 101');
    const filters = filtersOf(query);
    if (filters.channel !== undefined || filters.merchantId !== undefined || filters.currency !== undefined) {
      throw new ProblemException(400, 'unsupported-filter', 'Unsupported filter', 'Risk assessments name no channel, merchant or currency: filter by from / to only');
    }
    const parameters: unknown[] = [width];
    const where = conditions(filters, 'day', parameters, 'utc-date');
    const { rows } = await this.pool.query(
      `select (score / $1::int) * $1::int as score_from, decision, sum(assessments)::text as assessments
       from analytics.risk_score_distribution ${whereClause(where)} group by 1, 2 order by 1, 2`,
      parameters,
    );
    const buckets = new Map<number, Record<string, string | number>>();
    for (const row of rows) {
      const bucket: Record<string, string | number> = buckets.get(row.score_from) ?? { scoreFrom: row.score_from, scoreTo: Math.min(100, row.score_from + width - 1), approve: '0', review: '0', decline: '0' };
      bucket[String(row.decision)] = String(row.assessments);
      buckets.set(row.score_from, bucket);
    }
    return { bucketWidth: width, items: [...buckets.values()] };
  }

  /** Settlement batches, oldest opened first, with keyset paging. */
  @Get('settlement-batches')
  async settlementBatches(@Req() request: Request, @Res({ passthrough: true }) response: Response): Promise<unknown> {
    const query = request.query as Query;
    const filters = filtersOf(query);
    if (filters.channel !== undefined) {
      // A batch is a merchant's, across every channel its payments came through.
      throw new ProblemException(400, 'unsupported-filter', 'Unsupported filter', 'Settlement batches belong to a merchant, not to a channel: filter by merchantId, merchantAccountId, currency, status, from / to');
    }
    const limit = parseLimit(query['limit']);
    const parameters: unknown[] = [];
    const where = conditions(filters, 'opened_at', parameters);
    const status = text(query, 'status', /^(open|closed)$/);
    if (status !== undefined) {
      parameters.push(status);
      where.push(`status = $${parameters.length}`);
    }
    // The gateway shows a channel only the batches of merchant accounts it owns.
    const merchantAccountId = text(query, 'merchantAccountId', IDENTIFIER);
    if (merchantAccountId !== undefined) {
      parameters.push(merchantAccountId);
      where.push(`merchant_account_id = $${parameters.length}`);
    }
    const cursor = decodeCursor(query, 2);
    if (cursor !== undefined) {
      parameters.push(cursor[0], cursor[1]);
      where.push(`(opened_at, batch_id) > ($${parameters.length - 1}::timestamptz, $${parameters.length}::uuid)`);
    }
    parameters.push(limit + 1);
    const { rows } = await this.pool.query(
      `select * from analytics.settlement_batches ${whereClause(where)} order by opened_at, batch_id limit $${parameters.length}`,
      parameters,
    );
    const items = rows.slice(0, limit).map((row) => ({
      batchId: row.batch_id, merchantId: row.merchant_id, merchantAccountId: row.merchant_account_id, currency: row.currency, batchNo: row.batch_no, status: row.status,
      openedAt: row.opened_at.toISOString(), closedAt: row.closed_at?.toISOString() ?? null, closeReason: row.close_reason,
      paymentCount: row.payment_count, refundCount: row.refund_count, grossMinor: row.gross_minor, refundsMinor: row.refunds_minor,
      feesMinor: row.fees_minor, carriedInMinor: row.carried_in_minor, netMinor: row.net_minor, carriedForwardMinor: row.carried_forward_minor,
      payoutStatus: row.payout_status,
    }));
    const last = rows.length > limit ? rows[limit - 1] : undefined;
    const nextCursor = last === undefined ? null : encodeCursor([last.opened_at.toISOString(), last.batch_id]);
    if (wantsCsv(query)) {
      const header = Object.keys(items[0] ?? { batchId: null, merchantId: null, merchantAccountId: null, currency: null, batchNo: null, status: null, openedAt: null, closedAt: null, closeReason: null, paymentCount: null, refundCount: null, grossMinor: null, refundsMinor: null, feesMinor: null, carriedInMinor: null, netMinor: null, carriedForwardMinor: null, payoutStatus: null });
      return this.csv(response, header, items.map((item) => header.map((column) => (item as Record<string, unknown>)[column])), nextCursor);
    }
    return { items, nextCursor };
  }

  /** Each read model's checkpoint and lag (the same figures as /metrics). */
  @Get('read-models')
  async readModels(): Promise<{ items: (Omit<ReadModelLag, 'position'> & { position: string })[] }> {
    const lag = await this.worker.lag();
    return { items: lag.map((entry) => ({ ...entry, position: `${entry.position.transactionId}:${entry.position.globalPosition}` })) };
  }

  private groupBy(value: unknown): GroupName[] {
    if (value === undefined || value === '') return [];
    if (typeof value !== 'string') throw problem('groupBy', 'groupBy must be given once, as a comma-separated list');
    const names = value.split(',');
    for (const name of names) if (!(name in GROUP_COLUMNS)) throw problem('groupBy', `groupBy may list channel, merchantId, currency; got '${name}'`);
    if (new Set(names).size !== names.length) throw problem('groupBy', 'groupBy lists a column twice');
    return names as GroupName[];
  }

  /** The page as CSV; the next page's cursor travels in a Link header (rel="next"), CSV having no place for it. */
  private csv(response: Response, header: string[], rows: unknown[][], nextCursor: string | null): string {
    response.setHeader('content-type', 'text/csv; charset=utf-8; header=present');
    if (nextCursor !== null) response.setHeader('link', `<?cursor=${nextCursor}>; rel="next"`);
    return toCsv(header, rows);
  }
}
