// `npm run check:invariants [-- --quiesced] [--analytics-wait 30s] [--json]`: checks, from the event
// store itself, what the platform promises, and prints one line per check and a final one-line JSON.
// Used after `npm run simulate` and by the chaos run; exit code 1 when any check fails.
//
// - streams: every stream's versions are 0..n-1 with no gap, and the stream head agrees;
// - double entry: per currency, the posted balances of all accounts sum to zero (folded here from the
//   account streams with the ledger's own evolve, i.e. a fresh replay);
// - limits: no account is beyond its overdraft or credit limit;
// - transfers once: no account is debited or credited twice for one transfer, no hold held twice;
// - payments: no payment captured or settled twice, captured <= authorized, refunded <= captured;
// - settlement: no payment or refund counted in two batches, no batch closed twice;
// - read models: analytics' balances and payment statuses equal the replay (once analytics has caught up);
// - with --quiesced (traffic has stopped and the platform drained): every payment is in a final state.
//
// DATABASE_URL chooses the database (default: the platform's, `clearline`); --event-store-schema,
// --analytics-schema and --payments-schema choose the schemas (defaults: event_store, analytics, payments).
import { performance } from 'node:perf_hooks';

const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/clearline';
const PAGE_SIZE = 20_000;
/** Statuses after which a payment needs nothing more from the platform (captured ones wait only for settlement). */
const FINISHED_STATUSES = new Set(['voided', 'expired', 'declined', 'failed', 'refunded', 'captured', 'partially_refunded']);

function parseArguments(argv) {
  const options = {
    quiesced: false, analyticsWaitMs: 30_000, databaseUrl: process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL,
    schemas: { eventStore: 'event_store', analytics: 'analytics', payments: 'payments' },
  };
  const schema = (text, name) => {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(text ?? '')) throw new RangeError(`${name} must be a lower-case SQL identifier, got '${text}'`);
    return text;
  };
  for (let index = 0; index < argv.length; index += 1) {
    const [flag, inline] = argv[index].split('=', 2);
    const value = () => inline ?? argv[++index];
    switch (flag) {
      case '--quiesced': options.quiesced = true; break;
      case '--analytics-wait': {
        const text = value();
        const match = /^(\d+)(ms|s)?$/.exec(text ?? '');
        if (!match) throw new RangeError(`--analytics-wait must be a duration like 500ms or 30s, got '${text}'`);
        options.analyticsWaitMs = Number(match[1]) * (match[2] === 'ms' ? 1 : 1_000);
        break;
      }
      case '--event-store-schema': options.schemas.eventStore = schema(value(), flag); break;
      case '--analytics-schema': options.schemas.analytics = schema(value(), flag); break;
      case '--payments-schema': options.schemas.payments = schema(value(), flag); break;
      default: throw new RangeError(`unknown option '${argv[index]}' (see the header of tools/invariants.mjs)`);
    }
  }
  return options;
}

/** Pages through the events of the categories in global position order. */
async function* eventsOf(db, categories) {
  let after = 0n;
  for (;;) {
    const { rows } = await db.query(
      `select global_position, stream_id, stream_version, message_type, data
         from ${db.eventStore}.messages where category = any($1) and global_position > $2 order by global_position limit $3`,
      [categories, after.toString(), PAGE_SIZE],
    );
    for (const row of rows) yield row;
    if (rows.length < PAGE_SIZE) return;
    after = BigInt(rows.at(-1).global_position);
  }
}

/** Every violation of one check, at most `shown` of them kept as examples. */
class Check {
  constructor(name) {
    this.name = name;
    this.violations = 0;
    this.examples = [];
    this.note = '';
  }

  fail(detail) {
    this.violations += 1;
    if (this.examples.length < 5) this.examples.push(detail);
  }
}

async function checkStreams(db) {
  const check = new Check('streams have no gaps');
  const { rows } = await db.query(`
    select m.stream_id, count(*)::bigint as events, min(m.stream_version) as first, max(m.stream_version) as last, s.version as head
      from ${db.eventStore}.messages m left join ${db.eventStore}.streams s using (stream_id)
     group by m.stream_id, s.version
    having min(m.stream_version) <> 0 or max(m.stream_version) <> count(*) - 1 or s.version is distinct from max(m.stream_version)`);
  for (const row of rows) check.fail(`${row.stream_id}: ${row.events} events, versions ${row.first}..${row.last}, head ${row.head}`);
  const { rows: [{ streams }] } = await db.query(`select count(*)::bigint as streams from ${db.eventStore}.streams where version >= 0`);
  check.note = `${streams} streams`;
  return check;
}

async function replayLedger(db, ledger) {
  const accounts = new Map();
  const movements = new Map();
  let events = 0;
  for await (const row of eventsOf(db, ['account'])) {
    if (!ledger.ACCOUNT_EVENT_TYPES.has(row.message_type)) continue;
    events += 1;
    const accountId = row.stream_id.slice('account-'.length);
    accounts.set(accountId, ledger.evolveAccount(accounts.get(accountId) ?? ledger.initialAccountState(), { type: row.message_type, data: row.data }));
    const subject = row.data.transferId ?? row.data.holdId;
    if (subject !== undefined && ['AccountDebited', 'AccountCredited', 'AccountFundsHeld'].includes(row.message_type)) {
      const key = `${accountId} ${row.message_type} ${subject}`;
      movements.set(key, (movements.get(key) ?? 0) + 1);
    }
  }
  return { accounts, movements, events };
}

function checkLedger({ accounts, movements }, ledger) {
  const doubleEntry = new Check('double entry: posted balances sum to zero per currency');
  const limits = new Check('no account beyond its limit');
  const once = new Check('each transfer and hold moves an account once');
  const sums = new Map();
  for (const [accountId, state] of accounts) {
    if (state.status === 'unopened') continue;
    sums.set(state.currency, (sums.get(state.currency) ?? 0n) + state.postedMinor);
    if (ledger.breachesDebitLimit(state)) limits.fail(`${accountId}: available ${ledger.availableMinor(state)} below -${state.overdraftLimitMinor}`);
    if (ledger.breachesCreditLimit(state)) limits.fail(`${accountId}: posted ${state.postedMinor} above its credit limit ${state.creditLimitMinor}`);
  }
  for (const [currency, sum] of sums) if (sum !== 0n) doubleEntry.fail(`${currency}: sum of posted balances is ${sum}`);
  for (const [key, count] of movements) if (count > 1) once.fail(`${key}: ${count} times`);
  doubleEntry.note = `${accounts.size} accounts, ${sums.size} currencies`;
  limits.note = `${accounts.size} accounts`;
  once.note = `${movements.size} movements`;
  return [doubleEntry, limits, once];
}

async function replayPayments(db, payments) {
  const states = new Map();
  const counts = new Map();
  const settled = new Set();
  for await (const row of eventsOf(db, ['settlement'])) if (row.message_type === 'PaymentSettled') settled.add(row.data.paymentId);
  for await (const row of eventsOf(db, ['payment'])) {
    if (!payments.PAYMENT_EVENT_TYPES.has(row.message_type)) continue;
    const paymentId = row.stream_id.slice('payment-'.length);
    states.set(paymentId, payments.evolvePayment(states.get(paymentId) ?? payments.initialPaymentState(), { type: row.message_type, data: row.data }));
    if (row.message_type === 'PaymentCaptured' || row.message_type === 'PaymentSettled') {
      const key = `${paymentId} ${row.message_type}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return { states, counts, settled };
}

function checkPayments({ states, counts }, quiesced) {
  const once = new Check('no payment captured or settled twice');
  const amounts = new Check('captured <= authorized, refunded <= captured');
  const finished = new Check('every payment reached a final state');
  for (const [key, count] of counts) if (count > 1) once.fail(`${key}: ${count} times`);
  const unfinished = new Map();
  for (const [paymentId, state] of states) {
    if ('capturedMinor' in state) {
      if (state.capturedMinor > state.authorizedMinor) amounts.fail(`${paymentId}: captured ${state.capturedMinor} of ${state.authorizedMinor} authorized`);
      if (state.refundedMinor + state.pendingRefundMinor > state.capturedMinor) amounts.fail(`${paymentId}: refunds ${state.refundedMinor} + ${state.pendingRefundMinor} pending of ${state.capturedMinor} captured`);
    }
    if (!FINISHED_STATUSES.has(state.status)) unfinished.set(state.status, (unfinished.get(state.status) ?? 0) + 1);
  }
  const inFlight = [...unfinished].map(([status, count]) => `${status} ${count}`).join(', ');
  if (quiesced) for (const [status, count] of unfinished) finished.fail(`${count} payments still ${status}`);
  finished.note = quiesced ? `${states.size} payments` : `not required (no --quiesced); in flight: ${inFlight || 'none'}`;
  once.note = `${states.size} payments`;
  amounts.note = `${states.size} payments`;
  return [once, amounts, finished];
}

/**
 * The ledger and the payments agree: a hold the ledger captured belongs to a captured payment (or
 * one whose capture is still being recorded, unless --quiesced). A payment left authorized over a
 * captured hold has had its money moved without knowing it.
 */
async function checkCapturedHolds(db, { states }, payments, quiesced) {
  const check = new Check('every hold the ledger captured belongs to a captured payment');
  const paymentOfHold = new Map();
  for (const [paymentId, state] of states) if (typeof state.holdId === 'string') paymentOfHold.set(state.holdId, paymentId);
  const { rows } = await db.query(`select data->>'holdId' as hold_id from ${db.eventStore}.messages where category = 'hold' and message_type = 'HoldCaptured'`);
  let ofPayments = 0;
  for (const { hold_id: holdId } of rows) {
    const paymentId = paymentOfHold.get(holdId);
    if (paymentId === undefined) continue; // a channel's own hold, not a payment's
    ofPayments += 1;
    const state = states.get(paymentId);
    if (payments.isCaptured(state) || (!quiesced && state.status === 'capturing')) continue;
    check.fail(`hold ${holdId} captured by the ledger, payment ${paymentId} ${state.status}`);
  }
  check.note = `${ofPayments} captured holds of payments`;
  return check;
}

async function checkSettlement(db) {
  const check = new Check('settlement counts each payment and refund once');
  // The table's primary key keeps a line unique; the batch streams are checked on their own, since
  // they are what downstream systems hear (PaymentSettled per payment, one close per batch).
  const { rows } = await db.query(`
    select what, subject, count(*)::int as times from (
      select 'batch closed' as what, stream_id as subject from ${db.eventStore}.messages where category = 'settlement' and message_type = 'SettlementBatchClosed'
      union all
      select 'payment added to a batch', data->>'paymentId' from ${db.eventStore}.messages where category = 'settlement' and message_type = 'PaymentAddedToSettlementBatch'
      union all
      select 'payment settled', data->>'paymentId' from ${db.eventStore}.messages where category = 'settlement' and message_type = 'PaymentSettled'
      union all
      select 'refund added to a batch', data->>'refundId' from ${db.eventStore}.messages where category = 'settlement' and message_type = 'RefundAddedToSettlementBatch'
    ) counted group by what, subject having count(*) > 1`);
  for (const row of rows) check.fail(`${row.what} ${row.times} times: ${row.subject}`);
  const exists = await db.query(`select to_regclass('${db.payments}.settlement_lines') is not null as present`);
  if (exists.rows[0].present) {
    const { rows: [{ lines }] } = await db.query(`select count(*)::bigint as lines from ${db.payments}.settlement_lines`);
    check.note = `${lines} settlement lines`;
  } else {
    check.note = 'batch streams only: no settlement tables in this schema';
  }
  return check;
}

/** Analytics follows the event store: compare once it has caught up, waiting up to `waitMs`. */
async function checkReadModels(db, ledgerReplay, paymentReplay, waitMs) {
  const balances = new Check("analytics' balances equal the replay");
  const statuses = new Check("analytics' payment statuses equal the replay");
  const present = await db.query(`select to_regclass('${db.analytics}.account_balances') is not null as present`);
  if (!present.rows[0].present) {
    balances.note = statuses.note = 'no analytics read models in this database';
    return [balances, statuses];
  }
  const deadline = performance.now() + waitMs;
  for (;;) {
    const balanceDiffs = [];
    const { rows: accounts } = await db.query(`select account_id, posted_minor::text as posted, pending_minor::text as pending from ${db.analytics}.account_balances`);
    const projected = new Map(accounts.map((row) => [row.account_id, row]));
    for (const [accountId, state] of ledgerReplay.accounts) {
      if (state.status === 'unopened') continue;
      const row = projected.get(accountId);
      if (!row) balanceDiffs.push(`${accountId}: missing from analytics`);
      else if (BigInt(row.posted) !== state.postedMinor || BigInt(row.pending) !== state.pendingMinor) {
        balanceDiffs.push(`${accountId}: analytics ${row.posted}/${row.pending}, replay ${state.postedMinor}/${state.pendingMinor} (posted/pending)`);
      }
    }
    const statusDiffs = [];
    const { rows: payments } = await db.query(`select payment_id::text, status from ${db.analytics}.payments`);
    const projectedStatus = new Map(payments.map((row) => [row.payment_id, row.status]));
    for (const [paymentId, state] of paymentReplay.states) {
      if (state.status === 'initial') continue;
      // Analytics shows a captured payment whose batch has closed as `settled` (what a channel waits for).
      const expected = state.status === 'captured' && paymentReplay.settled.has(paymentId) ? 'settled' : state.status;
      const status = projectedStatus.get(paymentId);
      if (status !== expected) statusDiffs.push(`${paymentId}: analytics ${status ?? 'missing'}, replay ${expected}`);
    }
    if ((balanceDiffs.length === 0 && statusDiffs.length === 0) || performance.now() >= deadline) {
      for (const diff of balanceDiffs) balances.fail(diff);
      for (const diff of statusDiffs) statuses.fail(diff);
      balances.note = `${projected.size} accounts in analytics`;
      statuses.note = `${projectedStatus.size} payments in analytics`;
      return [balances, statuses];
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function main() {
  const options = parseArguments(process.argv.slice(2));
  const started = performance.now();
  const { default: pg } = await import('pg');
  const ledger = await import('@clearline/ledger-domain');
  const payments = await import('@clearline/payments-domain');
  const pool = new pg.Pool({ connectionString: options.databaseUrl, application_name: 'invariants', max: 2 });
  try {
    const target = new URL(options.databaseUrl);
    console.log(`checking invariants of ${target.host}${target.pathname}`);
    const db = { query: (text, values) => pool.query(text, values), ...options.schemas };
    const ledgerReplay = await replayLedger(db, ledger);
    const paymentReplay = await replayPayments(db, payments);
    const checks = [
      await checkStreams(db),
      ...checkLedger(ledgerReplay, ledger),
      ...checkPayments(paymentReplay, options.quiesced),
      await checkCapturedHolds(db, paymentReplay, payments, options.quiesced),
      await checkSettlement(db),
      ...(await checkReadModels(db, ledgerReplay, paymentReplay, options.analyticsWaitMs)),
    ];
    for (const check of checks) {
      console.log(`${check.violations === 0 ? 'ok  ' : 'FAIL'} ${check.name}${check.note ? ` (${check.note})` : ''}${check.violations > 0 ? `: ${check.violations} violations` : ''}`);
      for (const example of check.examples) console.log(`       ${example}`);
    }
    const failed = checks.filter((check) => check.violations > 0);
    console.log(JSON.stringify({
      invariants_checked: checks.length,
      invariants_failed: failed.length,
      failed: failed.map((check) => check.name),
      accounts: ledgerReplay.accounts.size,
      payments: paymentReplay.states.size,
      account_events: ledgerReplay.events,
      seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
    }));
    process.exitCode = failed.length === 0 ? 0 : 1;
  } finally {
    await pool.end();
  }
}

main().catch((error) => {
  console.error(error instanceof RangeError ? error.message : error);
  process.exitCode = 2;
});
