// Proves the analysts' dashboard (analytics GET /dashboard) in a real browser: Debian's Chromium driven
// by playwright-core, against the five built services, real Kafka and PostgreSQL. `npm run simulate`'s
// traffic (tools/simulate.mjs: accounts, payments, captures, refunds, straight onto Kafka as the
// channels send them; batches closed by a 2 s settlement schedule) goes through the platform; the page
// must then show what the query API answers, to the unit: P and R totals, rates, amounts formatted
// from minor units with the currency's exponent, a risk histogram with bars. It must apply the merchant
// and channel filters, refresh by itself, report a bad filter, and run under a CSP that refuses inline
// script, eval and other origins. A screenshot of the filtered view is saved to reports/dashboard.png.
import { jest } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { eventually, portsFrom, root, startPlatform, type RunningPlatform } from '@clearline/testing';

// The platform boots in tens of seconds on two cores (minutes when other suites share them), the
// simulation takes about half a minute more.
jest.setTimeout(600_000);

const BASE_PORT = 4780;
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SCREENSHOT = join(root, 'reports/dashboard.png');
/** The simulation's run label, new for each attempt (a label is used once per database). */
let run = '';
/** tools/simulate.mjs names merchants `sim-<run>-m<n>`. */
let merchantId = '';
/** ISO 4217 exponents of the simulator's currencies (tools/simulate/traffic.mjs). */
const EXPONENTS: Record<string, number> = { EUR: 2, USD: 2, JPY: 0 };

let platform: RunningPlatform;
let simulator: ChildProcess | undefined;
let browser: Browser;
let page: Page;
let analytics: string;
const consoleProblems: string[] = [];

interface FlowItem { requests: string; results: string; approved: string; declined: string }
interface Batch { currency: string; grossMinor: string; feesMinor: string; netMinor: string | null; status: string }

async function query<T>(path: string, parameters: Record<string, string | undefined>): Promise<T> {
  const search = new URLSearchParams(Object.entries(parameters).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''));
  const response = await fetch(`${analytics}${path}?${search}`);
  expect({ path, status: response.status }).toEqual({ path, status: 200 });
  return (await response.json()) as T;
}

/** Every item of a keyset-paged query. */
async function allItems<T>(path: string, parameters: Record<string, string | undefined>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page: { items: T[]; nextCursor: string | null } = await query(path, { ...parameters, limit: '500', cursor });
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return items;
}

/**
 * The few browser globals the in-page functions below use: the project compiles without the DOM lib.
 * page.evaluate serialises each function, so each one names `globalThis as unknown as InPage` itself.
 */
interface InPage {
  document: {
    body: { dataset: Record<string, string | undefined>; append(node: unknown): void };
    getElementById(id: string): { dataset: Record<string, string | undefined> };
    createElement(name: string): { textContent: string | null };
    addEventListener(type: string, listener: (event: unknown) => void): void;
  };
  inlineRan?: boolean;
  evalRan?: boolean;
}

const total = (items: FlowItem[], field: keyof FlowItem): bigint => items.reduce((sum, item) => sum + BigInt(item[field]), 0n);

/** The test's own rendering of an amount, written apart from the page's: digits, a point before the last `exponent`, the code. */
function expectedAmount(minor: bigint, currency: string): string {
  const exponent = EXPONENTS[currency]!;
  const digits = (minor < 0n ? -minor : minor).toString().padStart(exponent + 1, '0');
  const whole = BigInt(digits.slice(0, digits.length - exponent)).toLocaleString('en-US');
  return `${minor < 0n ? '-' : ''}${whole}${exponent > 0 ? `.${digits.slice(-exponent)}` : ''} ${currency}`;
}

/** Runs tools/simulate.mjs against the started platform; resolves with its final one-line JSON report. */
function simulate(): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [
      // Small on purpose (40 payments of 8 wallets, one merchant): the machine is shared with other suites.
      // --no-settle: the platform's 2 s schedule closes the batches (the simulator's own close waits only 60 s).
      join(root, 'tools/simulate.mjs'), '--rate', '5', '--duration', '8s', '--seed', String(randomInt(1, 2 ** 31)), '--run', run,
      '--merchants', '1', '--customers', '8', '--drain', '120s', '--no-settle',
    ], { cwd: root, env: { ...process.env, GATEWAY_PORT: String(platform.ports.gateway) }, stdio: ['ignore', 'pipe', 'pipe'] });
    simulator = child;
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk) => (stdout += chunk));
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    child.once('error', reject);
    child.once('exit', (code) => {
      simulator = undefined;
      const report = stdout.trim().split('\n').at(-1) ?? '';
      if (code === 0) resolve(JSON.parse(report));
      else reject(new Error(`simulate exited with ${code}:\n${stdout}\n${stderr.slice(-2_000)}`));
    });
  });
}

/** Waits until the page has drawn a refresh for the filters given (and any refresh after `after`). */
async function readyFor(filters: { merchantId: string; channel: string }, after = 0): Promise<void> {
  await page.waitForFunction(({ merchantId: merchant, channel, after: previous }) => {
    const { document } = globalThis as unknown as InPage;
    const status = document.getElementById('status').dataset;
    return document.body.dataset['state'] === 'ready' && status['merchantId'] === merchant && status['channel'] === channel && Number(status['refreshes']) > previous;
  }, { ...filters, after }, { timeout: 20_000 });
}

const valueOf = async (id: string): Promise<string | null> => page.locator(`#${id}`).getAttribute('data-value');
const statusData = async (name: string): Promise<string> => (await page.locator('#status').getAttribute(`data-${name}`)) ?? '';

/**
 * Fails unless every port is free: startPlatform waits for /health/ready on its ports, so services
 * someone else left on them would answer for ours, and the test would drive the wrong platform.
 */
async function expectPortsFree(ports: number[]): Promise<void> {
  for (const port of ports) {
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer().once('error', () => resolve(false)).listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    expect({ port, free }).toEqual({ port, free: true });
  }
}

beforeAll(async () => {
  await expectPortsFree(Object.values(portsFrom(BASE_PORT)));
  platform = await startPlatform({
    basePort: BASE_PORT,
    env: {
      DATABASE_URL: process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/clearline_test',
      LOG_LEVEL: 'info',
      // Settlement windows of 2 s instead of a day: the schedule closes the run's batches while the test runs.
      PAYMENTS_SETTLEMENT_INTERVAL_MS: '2000',
    },
    logDirectory: join(root, '.cache/logs/e2e-dashboard'),
    readyTimeoutMs: 180_000,
  });
  analytics = `http://127.0.0.1:${platform.ports.analytics}`;
  // One more attempt if the simulation's setup fails: on this shared machine the ledger has answered a
  // wallet's funding with account_not_found right after opening it, which the simulator does not await.
  let report: Record<string, unknown> | undefined;
  for (let attempt = 1; report === undefined; attempt += 1) {
    run = `dash-${randomUUID().slice(0, 8)}`;
    merchantId = `sim-${run}-m0`;
    try {
      report = await simulate();
    } catch (error) {
      if (attempt === 2) throw error;
      console.warn(`simulation ${run} failed, trying once more: ${error instanceof Error ? error.message.slice(-300) : String(error)}`);
    }
  }
  expect(report).toMatchObject({ run, drained: true });
  expect(Number(report['sent'])).toBe(40);
  await eventually("the run's payments and settlement batches in the query API", async () => {
    const items = await allItems<FlowItem>('/analytics/flow', { granularity: 'minute', merchantId });
    const batches = await allItems<Batch>('/analytics/settlement-batches', { merchantId });
    return total(items, 'requests') > 0n && batches.length > 0 ? true : undefined;
  }, 60_000, 250);
  // Every event of the run is stored now: once the read models the page draws from have caught up with
  // the event store, the query API's answers for this run's merchants no longer change.
  await eventually('the read models to catch up', async () => {
    const { items } = await query<{ items: { readModel: string; eventsBehind: number }[] }>('/analytics/read-models', {});
    const drawn = items.filter((item) => item.readModel === 'payment-flow' || item.readModel === 'settlement-batches');
    return drawn.length === 2 && drawn.every((item) => item.eventsBehind === 0) ? true : undefined;
  }, 60_000, 250);

  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1400, height: 1200 } });
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') consoleProblems.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => consoleProblems.push(`page error: ${error.message}`));
});

afterAll(async () => {
  await browser?.close();
  simulator?.kill('SIGTERM');
  await platform?.stop();
});

describe('the analytics dashboard', () => {
  it('is served with a strict CSP and runs no inline or evaluated script', async () => {
    const response = await page.goto(`${analytics}/dashboard`);
    expect(response?.status()).toBe(200);
    const headers = response!.headers();
    expect(headers['content-type']).toBe('text/html; charset=utf-8');
    expect(headers['content-security-policy']).toContain("script-src 'self'");
    expect(headers['content-security-policy']).toContain("default-src 'none'");
    expect(headers['content-security-policy']).not.toContain('unsafe');
    expect(headers['x-content-type-options']).toBe('nosniff');
    await readyFor({ merchantId: '', channel: '' });
    // The page itself drew everything without a complaint in the console.
    expect(consoleProblems).toEqual([]);
    // What an injection would try: an inline script, a script from another origin, a string run as code
    // (page.evaluate itself is exempt from CSP, so the attempts are made by elements and timers of the page).
    const foreignScript = `http://127.0.0.1:${platform.ports.gateway}/foreign.js`;
    const blocked = await page.evaluate(async (foreign) => {
      const inPage = globalThis as unknown as InPage;
      const violations: string[] = [];
      inPage.document.addEventListener('securitypolicyviolation', (event) => violations.push(String((event as unknown as { blockedURI: string }).blockedURI)));
      const inline = inPage.document.createElement('script');
      inline.textContent = 'globalThis.inlineRan = true';
      inPage.document.body.append(inline);
      const external = inPage.document.createElement('script') as { textContent: string | null; src?: string };
      external.src = foreign;
      inPage.document.body.append(external);
      (setTimeout as unknown as (code: string, delay: number) => void)('globalThis.evalRan = true', 0);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      return { inlineRan: inPage.inlineRan === true, evalRan: inPage.evalRan === true, violations: violations.sort() };
    }, foreignScript);
    expect(blocked).toEqual({ inlineRan: false, evalRan: false, violations: ['eval', foreignScript, 'inline'].sort() });
  });

  it('shows every merchant by default, with a risk histogram that has bars', async () => {
    const from = await statusData('from');
    expect(await statusData('granularity')).toBe('minute');
    const ours = total(await allItems<FlowItem>('/analytics/flow', { granularity: 'minute', merchantId, from }), 'requests');
    // Other tests may add payments meanwhile: everyone's P is at least this run's merchant's.
    expect(BigInt((await valueOf('p-total'))!)).toBeGreaterThanOrEqual(ours);
    const barCounts = await page.locator('#risk-chart rect[data-count]').evaluateAll((bars) => bars.map((bar) => Number(bar.getAttribute('data-count'))));
    expect(barCounts.filter((count) => count > 0).length).toBeGreaterThan(0);
    const drawnHeights = await page.locator('#risk-chart rect[data-count]').evaluateAll((bars) => bars.filter((bar) => Number(bar.getAttribute('data-count')) > 0).map((bar) => Number(bar.getAttribute('height'))));
    expect(drawnHeights.every((height) => height > 0)).toBe(true);
    expect(await page.locator('#flow-chart polyline').count()).toBe(2);
    // The merchant box suggests the merchants seen in the range, this run's among them.
    expect(await page.locator('#merchant-list option').evaluateAll((options) => options.map((option) => option.getAttribute('value')))).toContain(merchantId);
  });

  it("applies the merchant filter: P, R, rates and settlement totals equal the query API's answers", async () => {
    const before = Number(await statusData('refreshes'));
    await page.locator('#filter-merchant').fill(merchantId);
    await page.locator('#filter-merchant').press('Enter');
    await readyFor({ merchantId, channel: '' }, before);
    expect(new URL(page.url()).searchParams.get('merchantId')).toBe(merchantId);
    const from = await statusData('from');

    const flow = await allItems<FlowItem>('/analytics/flow', { granularity: 'minute', merchantId, from });
    const requests = total(flow, 'requests');
    const results = total(flow, 'results');
    expect(requests).toBeGreaterThan(0n);
    expect(await valueOf('p-total')).toBe(requests.toString());
    expect(await valueOf('r-total')).toBe(results.toString());
    expect(await page.locator('#p-total').textContent()).toBe(requests.toLocaleString('en-US'));
    expect(await valueOf('approval-rate')).toBe(`${total(flow, 'approved')}/${results}`);
    const tenths = (total(flow, 'approved') * 2000n + results) / (2n * results);
    expect(await page.locator('#approval-rate').textContent()).toBe(`${tenths / 10n}.${tenths % 10n} %`);
    // The P(t) line is drawn from the same buckets: its legend carries the total.
    expect(await page.locator('#flow-chart').textContent()).toContain(`P(t) requests: ${requests.toLocaleString('en-US')}`);

    const latency = await query<{ latencyMsP95: number | null }>('/analytics/latency', { merchantId, from });
    expect(await valueOf('latency-p95')).toBe(latency.latencyMsP95 === null ? null : String(latency.latencyMsP95));

    const byCurrency = await allItems<FlowItem & { currency: string; requestedMinor: string; approvedMinor: string }>('/analytics/flow', {
      granularity: 'minute', groupBy: 'currency', merchantId, from,
    });
    const volume = new Map<string, { requested: bigint; approved: bigint }>();
    for (const item of byCurrency) {
      const entry = volume.get(item.currency) ?? { requested: 0n, approved: 0n };
      volume.set(item.currency, { requested: entry.requested + BigInt(item.requestedMinor), approved: entry.approved + BigInt(item.approvedMinor) });
    }
    const volumeRows = await page.locator('#volume-table tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((cell) => cell.textContent)));
    expect(volumeRows).toEqual([...volume].sort(([a], [b]) => a.localeCompare(b)).map(([currency, entry]) => [
      currency, expectedAmount(entry.requested, currency), expectedAmount(entry.approved, currency),
    ]));

    // The 2 s schedule may close a batch meanwhile: gross and fees stay as they are, the closed count and
    // net change. So the page is read from a refresh that started after a first count of closed batches,
    // and the closed count and net are compared only if a second count, after the read, is the same.
    const closedCount = async (): Promise<number> => (await allItems<Batch>('/analytics/settlement-batches', { merchantId, from, status: 'closed' })).length;
    const closedBefore = await closedCount();
    await readyFor({ merchantId, channel: '' }, Number(await statusData('refreshes')) + 1);
    const rows = await page.locator('#settlement-table tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((cell) => cell.textContent)));
    const batches = await allItems<Batch>('/analytics/settlement-batches', { merchantId, from });
    const closedAfter = await closedCount();
    const currencies = [...new Set(batches.map((batch) => batch.currency))].sort();
    expect(rows.map((row) => row[0])).toEqual(currencies);
    for (const row of rows) {
      const currency = row[0]!;
      const mine = batches.filter((batch) => batch.currency === currency);
      const gross = mine.reduce((sum, batch) => sum + BigInt(batch.grossMinor), 0n);
      const fees = mine.reduce((sum, batch) => sum + BigInt(batch.feesMinor), 0n);
      const net = mine.reduce((sum, batch) => sum + BigInt(batch.netMinor ?? '0'), 0n);
      expect({ currency, gross: row[4], fees: row[6] }).toEqual({ currency, gross: expectedAmount(gross, currency), fees: expectedAmount(fees, currency) });
      if (closedBefore === closedAfter) {
        const closed = BigInt(mine.filter((batch) => batch.status === 'closed').length);
        expect({ currency, closed: row[2], net: row[7] }).toEqual({ currency, closed: closed.toString(), net: expectedAmount(net, currency) });
      }
    }
    expect(rows.length).toBeGreaterThan(0);

    mkdirSync(join(root, 'reports'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  it('applies the channel filter on top of the merchant filter', async () => {
    const from = await statusData('from');
    const byChannel = await allItems<FlowItem & { channel: string }>('/analytics/flow', { granularity: 'minute', groupBy: 'channel', merchantId, from });
    const perChannel = new Map<string, bigint>();
    for (const item of byChannel) perChannel.set(item.channel, (perChannel.get(item.channel) ?? 0n) + BigInt(item.requests));
    const [channel, expected] = [...perChannel].sort((a, b) => (b[1] > a[1] ? 1 : b[1] < a[1] ? -1 : 0))[0]!;
    const merchantTotal = BigInt((await valueOf('p-total'))!);

    const before = Number(await statusData('refreshes'));
    await page.locator('#filter-channel').selectOption(channel);
    await readyFor({ merchantId, channel }, before);
    expect(new URL(page.url()).searchParams.get('channel')).toBe(channel);
    expect(await valueOf('p-total')).toBe(expected.toString());
    const channelFlow = await allItems<FlowItem>('/analytics/flow', { granularity: 'minute', merchantId, channel, from: await statusData('from') });
    expect(total(channelFlow, 'requests')).toBe(expected);
    if (perChannel.size > 1) expect(expected).toBeLessThan(merchantTotal);
  });

  it('refreshes by itself every 5 seconds', async () => {
    const before = Number(await statusData('refreshes'));
    const started = Date.now();
    await page.waitForFunction((previous) => Number((globalThis as unknown as InPage).document.getElementById('status').dataset['refreshes']) > previous, before, { timeout: 12_000 });
    expect(Date.now() - started).toBeLessThan(12_000);
  });

  it('reports a bad filter with the API problem and recovers when it is corrected', async () => {
    await page.locator('#filter-merchant').fill('no such merchant!');
    await page.locator('#filter-merchant').press('Enter');
    await page.waitForFunction(() => (globalThis as unknown as InPage).document.body.dataset['state'] === 'error');
    expect(await page.locator('#error').isVisible()).toBe(true);
    expect(await page.locator('#error').textContent()).toContain('merchantId');

    const before = Number(await statusData('refreshes'));
    await page.locator('#filter-merchant').fill(merchantId);
    await page.locator('#filter-merchant').press('Enter');
    await readyFor({ merchantId, channel: await page.locator('#filter-channel').inputValue() }, before);
    expect(await page.locator('#error').isVisible()).toBe(false);
    // Since the injection attempts of the first test (refused by the CSP), the 400s of the bad filter are
    // the only thing the console logged.
    expect(consoleProblems.filter((problem) => !problem.includes('400') && !problem.includes('Content Security Policy'))).toEqual([]);
  });
});
