// Proves that the payment states PaymentProcessor remembers between messages never decide on a
// stale state, on real PostgreSQL (an event store schema of this file's own, so no relay publishes
// its payments): a state is remembered only once its transaction commits; another instance moving
// the payment on makes a decision on the remembered state void, and the message is decided again on
// the stream as stored (an answer already applied is ignored, a new one applied once); and the
// remembered path costs fewer statements than a read of the stream.
import { randomUUID } from 'node:crypto';
import { contractFor, type ContractEnvelope, type ContractType, type DataOf } from '@clearline/contracts';
import { eventStoreMigrations, PostgresEventStore } from '@clearline/event-store';
import { DEFAULT_PAYMENT_TIMEOUTS } from '@clearline/payments-domain';
import { createPool, migrate, type Pool } from '@clearline/postgres';
import { createLogger } from '@clearline/service-runtime';
import type { PoolClient } from 'pg';
import { PaymentProcessor } from './payment-processor.js';

const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/clearline_test';
const schema = `event_store_pay_proc_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
const migrations = eventStoreMigrations({ schema });
const balances = { currency: 'EUR', postedMinor: '10000', pendingMinor: '0', availableMinor: '10000' };

let pool: Pool;
let store: PostgresEventStore;

beforeAll(async () => {
  pool = createPool({ connectionString: DATABASE_URL, max: 4, applicationName: 'payment-processor-int-spec' });
  await migrate(pool, [migrations]);
  store = new PostgresEventStore(pool, { schema });
});

afterAll(async () => {
  await pool.query(`drop schema if exists ${schema} cascade`);
  await pool.query('delete from public.schema_migrations where owner = $1', [migrations.owner]);
  await pool.end();
});

function envelope<Type extends ContractType>(type: Type, data: DataOf<Type>): ContractEnvelope {
  const id = randomUUID();
  return {
    id, type, schemaVersion: contractFor(type).schemaVersion, data,
    metadata: { correlationId: id, causationId: id, occurredAt: new Date().toISOString(), producer: 'payment-processor-int-spec' },
  } as ContractEnvelope;
}

/** Handles one message as the consumer does: in a transaction, with afterCommit run once it commits (or not at all). */
async function handle(processor: PaymentProcessor, message: ContractEnvelope, outcome: 'commit' | 'rollback' = 'commit'): Promise<number> {
  const client = await pool.connect();
  let statements = 0;
  const counted = new Proxy(client, {
    get(target, property, receiver) {
      if (property === 'query') statements += 1;
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  }) as PoolClient;
  const committed: (() => void)[] = [];
  try {
    await client.query('begin');
    await processor.handle(message, { client: counted, afterCommit: (callback) => committed.push(callback) });
    await client.query(outcome);
  } catch (error) {
    await client.query('rollback');
    throw error;
  } finally {
    client.release();
  }
  if (outcome === 'commit') for (const callback of committed) callback();
  return statements;
}

function processor(): PaymentProcessor {
  return new PaymentProcessor(store, DEFAULT_PAYMENT_TIMEOUTS, createLogger('payments', 'silent'));
}

async function typesOf(paymentId: string): Promise<string[]> {
  return (await store.readStream(`payment-${paymentId}`)).map((event) => event.type);
}

function request(paymentId: string): ContractEnvelope {
  const payerAccountId = `pay-proc-${paymentId.slice(0, 8)}`;
  return envelope('RequestPayment', {
    paymentId, channel: 'e_wallet', merchantId: 'pay-proc-merchant', merchantAccountId: 'pay-proc-merchant-eur', payerAccountId,
    amount: { amountMinor: '1250', currency: 'EUR' }, method: 'wallet',
  });
}

function approved(paymentId: string): ContractEnvelope {
  return envelope('RiskAssessed', { paymentId, payerAccountId: `pay-proc-${paymentId.slice(0, 8)}`, score: 5, decision: 'approve', reasons: [], ruleSetVersion: 'int-test' });
}

async function holdPlaced(paymentId: string): Promise<ContractEnvelope> {
  const placeHold = (await store.readStream(`payment-${paymentId}`)).findLast((event) => event.type === 'PlaceHold');
  if (placeHold === undefined) throw new Error(`no PlaceHold on payment-${paymentId}`);
  return envelope('HoldPlaced', { ...(placeHold.data as DataOf<'PlaceHold'>), balances });
}

describe('remembered payment states', () => {
  it('save the read of the stream on the next message once the transaction committed', async () => {
    const payments = processor();
    const paymentId = randomUUID();
    const first = await handle(payments, request(paymentId));
    const second = await handle(payments, approved(paymentId));
    expect(await typesOf(paymentId)).toEqual(['PaymentRequested', 'PaymentAuthorizationStarted', 'PlaceHold']);
    // The request reads the stream, appends and writes its timer; the answer only appends and writes its timers.
    expect([first, second]).toEqual([3, 2]);
  });

  it('are not remembered from a transaction that rolled back', async () => {
    const payments = processor();
    const paymentId = randomUUID();
    await handle(payments, request(paymentId));
    await handle(payments, approved(paymentId), 'rollback');
    expect(await typesOf(paymentId)).toEqual(['PaymentRequested']);
    // Remembering the rolled-back state would skip the authorization; it is decided on what is stored.
    await handle(payments, approved(paymentId));
    expect(await typesOf(paymentId)).toEqual(['PaymentRequested', 'PaymentAuthorizationStarted', 'PlaceHold']);
  });

  it('moved on by another instance: an answer it already applied is ignored, not applied twice', async () => {
    const [one, other] = [processor(), processor()];
    const paymentId = randomUUID();
    await handle(one, request(paymentId));
    await handle(other, approved(paymentId));
    // `one` remembers the payment as requested: its decision (authorize) fails the append's version check.
    await handle(one, approved(paymentId));
    expect(await typesOf(paymentId)).toEqual(['PaymentRequested', 'PaymentAuthorizationStarted', 'PlaceHold']);
  });

  it('moved on by another instance: a new answer that the remembered state would ignore is applied', async () => {
    const [one, other] = [processor(), processor()];
    const paymentId = randomUUID();
    await handle(one, request(paymentId));
    await handle(other, approved(paymentId));
    // To `one` the payment is still requested, where a HoldPlaced means nothing; on the stored state it authorizes.
    await handle(one, await holdPlaced(paymentId));
    expect(await typesOf(paymentId)).toEqual(['PaymentRequested', 'PaymentAuthorizationStarted', 'PlaceHold', 'PaymentAuthorized', 'PaymentCaptureStarted', 'CaptureHold']);
  });

  it('refuse a conflicting repeated request as a read of the stream would', async () => {
    const payments = processor();
    const paymentId = randomUUID();
    await handle(payments, request(paymentId));
    await handle(payments, request(paymentId));
    const conflicting = request(paymentId);
    (conflicting.data as { amount: unknown }).amount = { amountMinor: '999', currency: 'EUR' };
    await expect(handle(payments, conflicting)).rejects.toThrow(/already exists with different details/);
    expect(await typesOf(paymentId)).toEqual(['PaymentRequested']);
  });
});
