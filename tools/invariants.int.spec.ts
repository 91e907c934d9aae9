// Proves `npm run check:invariants` (tools/invariants.mjs) on real PostgreSQL, as its users run it (a
// child process on the built libs), against an event store of its own schema: a consistent ledger and
// payment history passes every check; then each kind of damage the chaos run looks for is written in
// and the checker names it: money credited without a debit (double entry), an account below its limit,
// one transfer credited twice, a payment captured twice, a payment settled in two batches, and a
// payment left in flight when the platform is said to be quiet.
import { eventStoreMigrations, PostgresEventStore, type NewEvent } from '@clearline/event-store';
import { createPool, migrate, type Pool } from '@clearline/postgres';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/clearline_test';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SCHEMA = `invariants_${randomUUID().slice(0, 8)}`;
const eur = (amountMinor: string) => ({ amountMinor, currency: 'EUR' });

let pool: Pool;
let store: PostgresEventStore;

interface Verdict {
  status: number | null;
  lines: string[];
  summary: { invariants_checked: number; invariants_failed: number; failed: string[]; accounts: number; payments: number };
}

function checkInvariants(...extra: string[]): Verdict {
  const result = spawnSync(process.execPath, [
    // The read model and settlement checks look in this schema too, where there are none: they say so.
    join(ROOT, 'tools/invariants.mjs'), '--event-store-schema', SCHEMA, '--analytics-schema', SCHEMA, '--payments-schema', SCHEMA, '--analytics-wait', '0s', ...extra,
  ], {
    env: { ...process.env, DATABASE_URL }, encoding: 'utf8', timeout: 60_000,
  });
  const lines = result.stdout.trim().split('\n');
  return { status: result.status, lines, summary: JSON.parse(lines.at(-1) ?? '{}') };
}

function event(type: string, data: Record<string, unknown>): NewEvent {
  return { id: randomUUID(), type, data };
}

async function append(streamId: string, ...events: NewEvent[]): Promise<void> {
  await store.appendToStream(streamId, events);
}

async function openAccount(accountId: string, terms: Record<string, unknown> = {}): Promise<void> {
  await append(`account-${accountId}`, event('AccountOpened', { accountId, ownerId: 'owner', kind: 'customer_wallet', currency: 'EUR', ...terms }));
}

/** A transfer as the ledger books it: the debit on one account stream, the credit on the other. */
async function transfer(transferId: string, debit: string, credit: string, amountMinor: string): Promise<void> {
  await append(`account-${debit}`, event('AccountDebited', { transferId, amountMinor }));
  await append(`account-${credit}`, event('AccountCredited', { transferId, amountMinor }));
}

/** A sale through to capture, as the payment stream records it. */
async function capturedSale(paymentId: string, amountMinor: string): Promise<void> {
  const holdId = randomUUID();
  await append(`payment-${paymentId}`,
    event('PaymentRequested', {
      paymentId, channel: 'e_wallet', merchantId: 'merchant-1', merchantAccountId: 'merchant', payerAccountId: 'wallet', amount: eur(amountMinor),
      method: 'wallet', requestedAt: '2026-11-27T10:00:00.000Z',
    }),
    event('PaymentAuthorizationStarted', { paymentId, holdId, riskScore: 10 }),
    event('PaymentAuthorized', { paymentId, holdId, amount: eur(amountMinor) }),
    event('PaymentCaptureStarted', { paymentId, holdId, amount: eur(amountMinor) }),
    event('PaymentCaptured', { paymentId, holdId, amount: eur(amountMinor), authorizedAmount: eur(amountMinor) }));
}

async function settle(batchId: string, paymentId: string): Promise<void> {
  await append(`settlement-${batchId}`,
    event('PaymentAddedToSettlementBatch', { batchId, paymentId, amountMinor: '100', feeMinor: '3', capturedAt: '2026-11-27T10:00:01.000Z' }),
    event('PaymentSettled', { paymentId, batchId }));
}

beforeAll(async () => {
  pool = createPool({ connectionString: DATABASE_URL, applicationName: 'invariants-int-test', max: 2 });
  await migrate(pool, [eventStoreMigrations({ schema: SCHEMA })]);
  store = new PostgresEventStore(pool, { schema: SCHEMA });
  await openAccount('funding', { kind: 'funding', allowNegativeBalance: true });
  await openAccount('wallet');
  await openAccount('merchant', { kind: 'merchant' });
  await transfer(randomUUID(), 'funding', 'wallet', '5000');
  await transfer(randomUUID(), 'wallet', 'merchant', '1200');
  await capturedSale(randomUUID(), '1200');
});

afterAll(async () => {
  await pool.query(`drop schema if exists ${SCHEMA} cascade`);
  await pool.query('delete from public.schema_migrations where owner = $1', [`event-store:${SCHEMA}`]).catch(() => undefined);
  await pool.end();
});

describe('npm run check:invariants', () => {
  it('passes a consistent history, and says what it looked at', () => {
    const verdict = checkInvariants();
    expect(verdict.status).toBe(0);
    expect(verdict.summary).toMatchObject({ invariants_checked: 11, invariants_failed: 0, accounts: 3, payments: 1 });
    expect(verdict.lines).toContain('ok   double entry: posted balances sum to zero per currency (3 accounts, 1 currencies)');
  });

  it('refuses a bad option with a clear message and exit code 2', () => {
    const result = spawnSync(process.execPath, [join(ROOT, 'tools/invariants.mjs'), '--event-store-schema', 'Robert; drop table'], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--event-store-schema must be a lower-case SQL identifier');
  });

  it('names money credited without a debit, and an account below its limit', async () => {
    await append('account-wallet', event('AccountCredited', { transferId: randomUUID(), amountMinor: '7' }));
    await transfer(randomUUID(), 'wallet', 'merchant', '99999');
    const verdict = checkInvariants();
    expect(verdict.status).toBe(1);
    expect(verdict.summary.failed).toEqual(expect.arrayContaining(['double entry: posted balances sum to zero per currency', 'no account beyond its limit']));
    expect(verdict.lines).toContain('       EUR: sum of posted balances is 7');
    expect(verdict.lines.some((line) => line.includes('wallet: available -96192 below -0'))).toBe(true);
  });

  it('names a transfer credited twice, a payment captured twice and a payment settled in two batches', async () => {
    const transferId = randomUUID();
    await append('account-merchant', event('AccountCredited', { transferId, amountMinor: '1' }), event('AccountCredited', { transferId, amountMinor: '1' }));
    const paymentId = randomUUID();
    await capturedSale(paymentId, '300');
    await append(`payment-${paymentId}`, event('PaymentCaptured', { paymentId, holdId: randomUUID(), amount: eur('300'), authorizedAmount: eur('300') }));
    await settle(randomUUID(), paymentId);
    await settle(randomUUID(), paymentId);
    const verdict = checkInvariants();
    expect(verdict.summary.failed).toEqual(expect.arrayContaining([
      'each transfer and hold moves an account once', 'no payment captured or settled twice', 'settlement counts each payment and refund once',
    ]));
    expect(verdict.lines).toContain(`       merchant AccountCredited ${transferId}: 2 times`);
    expect(verdict.lines).toContain(`       ${paymentId} PaymentCaptured: 2 times`);
    expect(verdict.lines).toContain(`       payment settled 2 times: ${paymentId}`);
  });

  it('names a hold the ledger captured while its payment stayed authorized', async () => {
    const paymentId = randomUUID();
    const holdId = randomUUID();
    await append(`payment-${paymentId}`,
      event('PaymentRequested', {
        paymentId, channel: 'e_wallet', merchantId: 'merchant-1', merchantAccountId: 'merchant', payerAccountId: 'wallet', amount: eur('40'),
        method: 'wallet', requestedAt: '2026-11-27T10:00:00.000Z', captureMode: 'manual',
      }),
      event('PaymentAuthorizationStarted', { paymentId, holdId, riskScore: 10 }),
      event('PaymentAuthorized', { paymentId, holdId, amount: eur('40') }));
    await append(`hold-${holdId}`, event('HoldCaptured', { holdId, accountId: 'wallet', creditAccountId: 'merchant', amount: eur('40') }));
    const verdict = checkInvariants();
    expect(verdict.summary.failed).toContain('every hold the ledger captured belongs to a captured payment');
    expect(verdict.lines).toContain(`       hold ${holdId} captured by the ledger, payment ${paymentId} authorized`);
  });

  it('with --quiesced, names payments still in flight', async () => {
    const paymentId = randomUUID();
    await append(`payment-${paymentId}`, event('PaymentRequested', {
      paymentId, channel: 'e_wallet', merchantId: 'merchant-1', merchantAccountId: 'merchant', payerAccountId: 'wallet', amount: eur('10'),
      method: 'wallet', requestedAt: '2026-11-27T10:00:00.000Z',
    }));
    expect(checkInvariants().lines.some((line) => line.includes('every payment reached a final state') && line.startsWith('ok'))).toBe(true);
    const quiet = checkInvariants('--quiesced');
    expect(quiet.summary.failed).toContain('every payment reached a final state');
    expect(quiet.lines).toContain('       1 payments still requested');
  });
});
