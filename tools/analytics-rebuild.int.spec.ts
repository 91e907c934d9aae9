// Proves `npm run analytics:rebuild` (tools/analytics-rebuild.mjs) as its users run it: a child
// process on the built apps, against a database of its own (the command rebuilds the `analytics`
// schema of DATABASE_URL). Bad arguments are refused before anything is touched; a rebuild with folds
// bounded to 50 rows (each read model writes, loads and merges many times) and one with the default
// bound build the same tables, move every read model's checkpoint, and report per read model.
import { eventStoreMigrations, PostgresEventStore } from '@clearline/event-store';
import { createPool, migrate, type Pool } from '@clearline/postgres';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { READ_MODELS, tableNames } from '../apps/analytics/src/read-model-catalog.js';
import { tableDigests } from '../apps/analytics/src/read-model-rebuild.js';
import { simulatedTraffic } from '../apps/analytics/src/simulated-traffic.js';

const SERVER_URL = new URL(process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/clearline_test');
const DATABASE = `clearline_rebuild_cli_${randomUUID().replaceAll('-', '').slice(0, 8)}`;
const DATABASE_URL = Object.assign(new URL(SERVER_URL), { pathname: `/${DATABASE}` }).toString();
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

let admin: Pool;
let pool: Pool;

function rebuild(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [join(ROOT, 'tools/analytics-rebuild.mjs'), ...args], {
    env: { ...process.env, DATABASE_URL }, encoding: 'utf8', timeout: 120_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

async function digests(): Promise<Record<string, string>> {
  const all: Record<string, string> = {};
  for (const model of READ_MODELS) Object.assign(all, await tableDigests(pool, tableNames(model, 'analytics')));
  return all;
}

beforeAll(async () => {
  admin = createPool({ connectionString: Object.assign(new URL(SERVER_URL), { pathname: '/postgres' }).toString(), max: 1 });
  await admin.query(`create database ${DATABASE}`);
  pool = createPool({ connectionString: DATABASE_URL, max: 4, applicationName: 'analytics-rebuild-cli-it' });
  await migrate(pool, [eventStoreMigrations(), { owner: 'analytics', directory: join(ROOT, 'apps/analytics/migrations') }]);
  const store = new PostgresEventStore(pool);
  const traffic = simulatedTraffic({ seed: 5, merchants: 6, paymentsPerRound: 30 });
  for (let round = 0; round < 6; round += 1) await store.appendToStreams(traffic.next().value as Parameters<PostgresEventStore['appendToStreams']>[0]);
}, 60_000);

afterAll(async () => {
  await pool?.end();
  await admin?.query(`drop database if exists ${DATABASE} with (force)`);
  await admin?.end();
});

describe('npm run analytics:rebuild', () => {
  it.each([
    [['--max-held-rows=0'], /unknown option '--max-held-rows=0'.*positive integer/],
    [['--max-held-rows=many'], /unknown option '--max-held-rows=many'/],
    [['--fast'], /unknown option '--fast'/],
    [['paymnts'], /unknown read model 'paymnts': one of payments, ledger, payment-flow, settlement-batches/],
  ])('refuses %j with exit code 2 and says why', (args, message) => {
    const result = rebuild(...args);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  });

  it('builds the same tables with folds of 50 rows as with the default, and moves every checkpoint', async () => {
    const bounded = rebuild('--max-held-rows=50');
    expect(bounded.stderr).not.toMatch(/rebuild failed/);
    expect(bounded.status).toBe(0);
    const reports = bounded.stdout.trim().split('\n').map((line) => JSON.parse(line) as { readModel: string; events: number; position: string });
    expect(reports.map((report) => report.readModel)).toEqual(READ_MODELS.map((model) => model.name));
    for (const report of reports) expect(report.events).toBeGreaterThan(0);
    const afterBounded = await digests();
    for (const digest of Object.values(afterBounded)) expect(digest).not.toMatch(/^0:/);

    const unbounded = rebuild();
    expect(unbounded.status).toBe(0);
    expect(await digests()).toEqual(afterBounded);

    // Each checkpoint where its read model's lane ended (the ledger's lane reads other categories).
    const { rows } = await pool.query<{ subscription_id: string; position: string }>(
      `select subscription_id, transaction_id::text || ':' || global_position as position from event_store.subscription_checkpoints order by subscription_id`,
    );
    const unboundedReports = unbounded.stdout.trim().split('\n').map((line) => JSON.parse(line) as { readModel: string; position: string });
    expect(Object.fromEntries(rows.map((row) => [row.subscription_id, row.position]))).toEqual(
      Object.fromEntries(READ_MODELS.map((model) => [model.subscriptionId, unboundedReports.find((report) => report.readModel === model.name)?.position])),
    );
    for (const report of unboundedReports) expect(report.position).not.toBe('0:0');
  }, 120_000);
});
