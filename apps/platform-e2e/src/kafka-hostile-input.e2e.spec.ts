// Hostile input at every Kafka consumer of the platform (issue 9), through the five real services on
// real Kafka, PostgreSQL and Redis. Accepted state is made first (funded accounts, two settled sales,
// one authorized manual-capture payment, a funding transfer), then a seeded set of hostile records
// (fast-check, fixed seed: FUZZ_SEED=<n> repeats a run, FUZZ_SEED=random explores) is published onto
// every topic a consumer reads: payments.commands, ledger.commands, risk.events, ledger.events,
// payments.events, settlement.events. They are: values that are not JSON (or empty), JSON that is not
// an envelope, unknown types, wrong schema versions, missing and extra fields, negative / zero /
// fractional / float-string / numeric / over-long amounts, badly written and unknown currencies, a
// currency other than the account's or the payment's, amounts above 2^63, replays of accepted
// commands with the same id (same body, changed body), lifecycle commands the payment's state refuses,
// ledger commands for holds that do not exist, events no service produced (a RiskAssessed for a
// payment that does not exist, a HoldPlaced for an unknown hold, a HoldCaptured before any HoldPlaced,
// a PaymentCaptured with another amount, a ledger answer for the wrong hold); and a payload above
// 1 MiB, which the broker refuses uncompressed (the second test).
//
// Cases left commented below are known bugs whose fix lies outside this spec's reach (forged
// HoldExpired and PaymentRequested events change state; a huge request poisons the payer's risk
// velocity): each says what happens.
// The broker and the consumer groups are shared: do not run this beside `npm run chaos`, `npm start`
// or another platform on the same broker (beforeAll refuses to start while the groups have members).
//
// What it proves, once every consumer group has committed past the last hostile record:
// - every service is still ready (none crashed, none is wedged);
// - every record a consumer cannot accept is dead-lettered by that consumer group on `<topic>.dlq`,
//   once, with a dlq-reason header that names what was wrong; every record a consumer documents as
//   not its business (an answer about a payment or hold it never asked for) is not dead-lettered;
//   well-formed commands the domain refuses get the domain's answer (PaymentCommandRejected,
//   TransferRejected, a declined payment) and move no money;
// - the event-store streams the hostile records name gain no event but those refusals, and no
//   settlement batch counts a line for a payment they name;
// - the accepted payments and the accounts' balances read back the same through the gateway;
// - a new real payment after the run is still settled and its batch pays the merchant exactly its
//   net: no partition is blocked by a poison record and no forged line was paid out.
import { jest } from '@jest/globals';
import { contractFor, DEVELOPMENT_CHANNEL_CREDENTIALS, isContractType, Topics } from '@clearline/contracts';
import { gatewayClient, root, startPlatform, type GatewayClient, type RunningPlatform } from '@clearline/testing';
import fc from 'fast-check';
import { CompressionTypes, Kafka, logLevel, type Admin, type Consumer, type Producer } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';

// Booting five services takes tens of seconds on two cores; the hostile run itself stays well under 90 s.
jest.setTimeout(300_000);

const BASE_PORT = 4900;
const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/clearline_test';
/** Fixed, so the suite is repeatable; FUZZ_SEED=<n> replays a run, FUZZ_SEED=random explores new ones. */
const DEFAULT_SEED = 20261127;
const SEED = process.env['FUZZ_SEED'] === 'random' ? Math.floor(Math.random() * 2 ** 31) : Number(process.env['FUZZ_SEED'] ?? DEFAULT_SEED);
/** How many records each generated family puts on each topic it targets (the hand-written cases come on top). */
const PER_FAMILY = Number(process.env['FUZZ_RUNS'] ?? 6);
const run = randomUUID().slice(0, 8);
/** Carried by every hostile record and kept by the dead-letter copy (it adds to the original headers). */
const CASE_HEADER = 'x-hostile-case';
/** Kafka's broker refuses a record above about 1 MiB uncompressed; compressed, a larger value gets through to the consumer. */
const HUGE_VALUE_BYTES = 1_200_000;

/** Every consumer group that reads each topic through libs/messaging's MessageConsumer (the gateway's push hub reads payments.events too, commits nothing and skips what it cannot use). */
const CONSUMER_GROUPS: Record<string, readonly string[]> = {
  [Topics.paymentsCommands]: ['payments-commands'],
  [Topics.riskEvents]: ['payments-process'],
  [Topics.ledgerEvents]: ['payments-process'],
  [Topics.ledgerCommands]: ['ledger'],
  [Topics.paymentsEvents]: ['payments-settlement', 'risk', 'gateway-webhooks'],
  [Topics.settlementEvents]: ['gateway-webhooks'],
};
const CONSUMED_TOPICS = Object.keys(CONSUMER_GROUPS);
const ALL_GROUPS = [...new Set(Object.values(CONSUMER_GROUPS).flat())];
/** Events by which a service answers a command it refuses: the only events hostile input may add to a stream. */
const REFUSAL_TYPES = new Set([
  'PaymentCommandRejected', 'TransferRejected', 'HoldRejected', 'CaptureRejected', 'HoldReleaseRejected', 'AccountCommandRejected',
  'TransferReversalRejected', 'LinkedTransfersRejected', 'CurrencyExchangeRejected',
]);

const accounts = {
  funding: `hostile-funding-${run}`,
  payer: `hostile-payer-${run}`,
  merchant: `hostile-merchant-${run}`,
  payerUsd: `hostile-payer-usd-${run}`,
  /** Pays the well-formed requests above 2^63, away from the payer of the real payments (see the known bug there). */
  payerHuge: `hostile-payer-huge-${run}`,
};
const merchantId = `hostile-merchant-${run}`;
/** Where settlement pays the merchant's batches out (opened by payments, by convention). */
const settlementAccount = `settlement-${merchantId}-EUR`;
const fundingTransferId = randomUUID();

// ---------------------------------------------------------------- the hostile records

interface HostileCase {
  id: string;
  /** For the summary: the family of malformation. */
  family: string;
  topic: string;
  key: string | null;
  value: Buffer | null;
  compress?: boolean;
  /** The groups of the topic that must dead-letter it, and what their reason must say; every other group must not. */
  deadLetter?: { groups: readonly string[]; reason: RegExp };
  /** Why the groups that do not dead-letter it are right to let it through (the documented behaviour). */
  ignoredBecause?: string;
  /** A refusal the domain must record in answer (a well-formed command it will not carry out). */
  answer?: { streamId: string; type: string; reasonCode?: string; commandId?: string };
  /**
   * A well-formed request for a new payment the platform must not make: its first outcome must be one
   * of `outcomes` (an event type, and its reason code when given), never an authorization or a capture.
   */
  declines?: { paymentId: string; outcomes: readonly string[] };
}

interface Envelope {
  id: string;
  type: string;
  schemaVersion: unknown;
  data: unknown;
  metadata: Record<string, unknown>;
}

function envelope(type: string, data: unknown, schemaVersion: unknown = 1, producer = 'hostile-e2e'): Envelope {
  const id = randomUUID();
  return { id, type, schemaVersion, data, metadata: { correlationId: `hostile-${run}-${id}`, causationId: id, occurredAt: new Date().toISOString(), producer } };
}

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value), 'utf8');

/** A sample of `arbitrary` fixed by the run's seed and the family's own offset, so one family changing does not reshuffle the others. */
function sample<T>(arbitrary: fc.Arbitrary<T>, offset: number, count = PER_FAMILY): T[] {
  return fc.sample(arbitrary, { seed: SEED + offset, numRuns: count });
}

interface AcceptedState {
  saleIds: string[];
  /** Authorized, captureMode manual: a payment with an open hold. */
  authorized: { paymentId: string; holdId: string };
  /** RequestPayment data as the first sale was requested (without requestedAt). */
  firstSaleRequest: Record<string, unknown>;
}

/** Valid data of a type on each consumed topic, the base that the schema-breaking families mutate. */
function validBases(): Record<string, { type: string; data: Record<string, unknown>; amountPath?: string[] }> {
  const paymentId = randomUUID();
  const holdId = randomUUID();
  const money = { amountMinor: '100', currency: 'EUR' };
  return {
    [Topics.paymentsCommands]: { type: 'RequestPayment', data: requestPaymentData(paymentId, money), amountPath: ['amount'] },
    [Topics.ledgerCommands]: {
      type: 'PostTransfer', data: { transferId: randomUUID(), debitAccountId: accounts.payer, creditAccountId: accounts.merchant, amount: money }, amountPath: ['amount'],
    },
    [Topics.riskEvents]: {
      type: 'RiskAssessed', data: { paymentId, payerAccountId: accounts.payer, score: 5, decision: 'approve', reasons: [], ruleSetVersion: 'hostile-1' },
    },
    [Topics.ledgerEvents]: {
      type: 'HoldPlaced',
      data: { holdId, accountId: accounts.payer, amount: money, paymentId, balances: { currency: 'EUR', postedMinor: '0', pendingMinor: '100', availableMinor: '-100' } },
      amountPath: ['amount'],
    },
    [Topics.paymentsEvents]: { type: 'PaymentCaptured', data: { paymentId, holdId, amount: money }, amountPath: ['amount'] },
    [Topics.settlementEvents]: {
      type: 'RefundSettled',
      data: {
        refundId: randomUUID(), paymentId, merchantId, merchantAccountId: accounts.merchant, settlementBatchId: randomUUID(), currency: 'EUR',
        amountMinor: '100', refundedAt: new Date().toISOString(), settledAt: new Date().toISOString(),
      },
    },
  };
}

function requestPaymentData(paymentId: string, amount: { amountMinor: string; currency: string }, payerAccountId = accounts.payer): Record<string, unknown> {
  return {
    paymentId, channel: 'e_wallet', merchantId, merchantAccountId: accounts.merchant, payerAccountId, amount, method: 'wallet',
    // A device of its own, so the hostile requests that are well formed do not raise the real payments' velocity features.
    riskContext: { ipAddress: '198.51.100.23', deviceId: `hostile-device-${run}` },
  };
}

function withAmount(data: Record<string, unknown>, path: string[], amountMinor: unknown, currency: unknown = 'EUR'): Record<string, unknown> {
  const copy = structuredClone(data);
  let target: Record<string, unknown> = copy;
  for (const step of path.slice(0, -1)) target = target[step] as Record<string, unknown>;
  target[path.at(-1)!] = { amountMinor, currency };
  return copy;
}

/** Amount values the contracts refuse: negative, zero, fractional, float strings, JSON numbers, more than 31 digits, padded. */
const invalidAmount: fc.Arbitrary<unknown> = fc.oneof(
  fc.bigInt({ min: -(2n ** 70n), max: -1n }).map(String),
  fc.constantFrom('0', '-0', '00', '0100', '+100', ' 100', '100 ', '1_000', '１００', '0x10', '1e3', 'Infinity', 'NaN', ''),
  fc.tuple(fc.bigInt({ min: 0n, max: 10n ** 12n }), fc.integer({ min: 1, max: 999 })).map(([whole, fraction]) => `${whole}.${fraction}`),
  fc.double({ noDefaultInfinity: false }).map((value) => String(value)).filter((text) => !/^[1-9][0-9]{0,30}$/.test(text)),
  fc.integer({ min: -1_000, max: 1_000_000 }),
  fc.double(),
  fc.bigInt({ min: 10n ** 31n, max: 10n ** 45n }).map(String),
  fc.constant(null),
);
/** Currencies the contracts refuse by their form (three capital letters). */
const malformedCurrency = fc.constantFrom('eur', 'EURO', 'EU', 'E1R', '', ' EUR', '€', 'EUR\n', null, 978);

function buildCases(state: AcceptedState): HostileCase[] {
  const cases: HostileCase[] = [];
  const add = (hostile: Omit<HostileCase, 'id'>): void => {
    cases.push({ ...hostile, id: `${run}-${cases.length}` });
  };
  const everyGroup = (topic: string) => CONSUMER_GROUPS[topic]!;
  const bases = validBases();

  for (const [topicIndex, topic] of CONSUMED_TOPICS.entries()) {
    const offset = topicIndex * 100;
    const base = bases[topic]!;
    for (const text of sample(fc.string({ unit: 'binary', minLength: 1, maxLength: 80 }).filter((value) => !parsesAsJson(value)), offset + 1)) {
      add({ family: 'not JSON (text)', topic, key: 'hostile', value: Buffer.from(text, 'utf8'), deadLetter: { groups: everyGroup(topic), reason: /not JSON/ } });
    }
    for (const bytes of sample(fc.uint8Array({ minLength: 1, maxLength: 64 }).filter((value) => !parsesAsJson(Buffer.from(value).toString('utf8'))), offset + 2, 2)) {
      add({ family: 'not JSON (bytes)', topic, key: null, value: Buffer.from(bytes), deadLetter: { groups: everyGroup(topic), reason: /not JSON/ } });
    }
    add({ family: 'empty value', topic, key: 'hostile', value: null, deadLetter: { groups: everyGroup(topic), reason: /has no value/ } });
    add({ family: 'empty value', topic, key: 'hostile', value: Buffer.alloc(0), deadLetter: { groups: everyGroup(topic), reason: /has no value/ } });
    for (const value of sample(fc.jsonValue({ maxDepth: 3 }), offset + 3)) {
      add({ family: 'JSON, not an envelope', topic, key: 'hostile', value: json(value), deadLetter: { groups: everyGroup(topic), reason: ENVELOPE_PROBLEM } });
    }
    for (const field of ['id', 'type', 'schemaVersion', 'data', 'metadata'] as const) {
      const whole = envelope(base.type, base.data);
      const { [field]: _dropped, ...rest } = whole;
      add({ family: 'envelope field missing', topic, key: 'hostile', value: json(rest), deadLetter: { groups: everyGroup(topic), reason: new RegExp(field === 'data' ? 'data is missing' : field) } });
    }
    for (const type of sample(fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), fc.constantFrom('PaymentTimeoutElapsed', 'CallConnector', 'RiskDecisionInputsRecorded', 'paymentcaptured', 'Payment Captured')).filter((name) => !isContractType(name)), offset + 4)) {
      add({ family: 'unknown type', topic, key: 'hostile', value: json(envelope(type, base.data)), deadLetter: { groups: everyGroup(topic), reason: /unknown message type/ } });
    }
    for (const version of sample(fc.oneof(fc.integer({ min: -3, max: 40 }).filter((value) => value !== 1), fc.constantFrom(1.5, '1', null, true, [1])), offset + 5)) {
      // Every base type is at schema version 1, so anything else is a version no consumer accepts.
      add({ family: 'wrong schema version', topic, key: 'hostile', value: json(envelope(base.type, base.data, version)), deadLetter: { groups: everyGroup(topic), reason: /schema ?version/i } });
    }
    const required = (contractFor(base.type).schema['required'] as string[]).filter((field) => field in base.data);
    for (const field of sample(fc.constantFrom(...required), offset + 6, Math.min(PER_FAMILY, required.length))) {
      const { [field]: _dropped, ...data } = base.data;
      add({ family: 'data field missing', topic, key: 'hostile', value: json(envelope(base.type, data)), deadLetter: { groups: everyGroup(topic), reason: new RegExp(`required property '${field}'`) } });
    }
    const extraField = fc.tuple(fc.string({ minLength: 1, maxLength: 12 }).filter((name) => !(name in base.data)), fc.jsonValue({ maxDepth: 1 }));
    for (const [name, value] of sample(extraField, offset + 7, 3)) {
      add({ family: 'data field extra', topic, key: 'hostile', value: json(envelope(base.type, { ...base.data, [name]: value })), deadLetter: { groups: everyGroup(topic), reason: /additional properties/ } });
    }
    if (base.amountPath !== undefined) {
      for (const amount of sample(invalidAmount, offset + 8, PER_FAMILY * 2)) {
        add({ family: 'invalid amount', topic, key: 'hostile', value: json(envelope(base.type, withAmount(base.data, base.amountPath, amount))), deadLetter: { groups: everyGroup(topic), reason: /amountMinor/ } });
      }
      for (const currency of sample(malformedCurrency, offset + 9, 3)) {
        add({ family: 'malformed currency', topic, key: 'hostile', value: json(envelope(base.type, withAmount(base.data, base.amountPath, '100', currency))), deadLetter: { groups: everyGroup(topic), reason: /currency/ } });
      }
    }
  }

  // A record above 1 MiB reaches a consumer only compressed (the broker refuses it uncompressed, see the
  // test below). parseMessage refuses it for its size, and the consumer dead-letters it without its value
  // (too large to copy: the dead-letter record names its size, the value stays on the original topic).
  // Before that, the uncompressed copy was refused by the broker and the consumer fetched the record
  // again forever, wedging the partition (run 1 of this spec wedged payments.commands/2 and ledger.commands/2).
  for (const topic of [Topics.paymentsCommands, Topics.ledgerCommands]) {
    const padded = envelope(bases[topic]!.type, { ...bases[topic]!.data, padding: 'x'.repeat(HUGE_VALUE_BYTES) });
    add({ family: 'huge payload', topic, key: 'hostile', value: json(padded), compress: true, deadLetter: { groups: CONSUMER_GROUPS[topic]!, reason: /bytes, above the 1048576 bytes accepted/ } });
  }

  addCommandCases(add, state);
  addForgedEventCases(add, state);
  return cases;
}

/** Well-formed commands that the domain must refuse, and replays of accepted ones. */
function addCommandCases(add: (hostile: Omit<HostileCase, 'id'>) => void, state: AcceptedState): void {
  const [firstSale] = state.saleIds as [string];
  // A replay of the first sale's RequestPayment, body unchanged, under a new message id: the payment exists with the same details, so it is a repeat with no effect.
  add({
    family: 'replay, same body', topic: Topics.paymentsCommands, key: firstSale, value: json(envelope('RequestPayment', state.firstSaleRequest)),
    ignoredBecause: 'a RequestPayment for a payment that exists with the very same details is a repeat: payments appends nothing (repeatedRequestGuard)',
  });
  for (const amountMinor of sample(fc.bigInt({ min: 1n, max: 10n ** 9n }).map(String).filter((amount) => amount !== (state.firstSaleRequest['amount'] as { amountMinor: string }).amountMinor), 901, 3)) {
    add({
      family: 'replay, changed body', topic: Topics.paymentsCommands, key: firstSale,
      value: json(envelope('RequestPayment', { ...state.firstSaleRequest, amount: { amountMinor, currency: 'EUR' } })),
      deadLetter: { groups: ['payments-commands'], reason: new RegExp(`payment ${firstSale} already exists with different details`) },
    });
  }
  add({
    family: 'replay, changed body', topic: Topics.paymentsCommands, key: firstSale,
    value: json(envelope('RequestPayment', { ...state.firstSaleRequest, payerAccountId: accounts.merchant, merchantAccountId: accounts.payer })),
    deadLetter: { groups: ['payments-commands'], reason: /already exists with different details/ },
  });
  // The ledger keeps the first outcome of a transfer id: the same id with another body is refused with duplicate_id_different_body.
  const refusedTransfer = envelope('PostTransfer', { transferId: fundingTransferId, debitAccountId: accounts.funding, creditAccountId: accounts.payer, amount: { amountMinor: '999999', currency: 'EUR' } });
  add({
    family: 'replay, changed body', topic: Topics.ledgerCommands, key: accounts.funding, value: json(refusedTransfer),
    answer: { streamId: `ledger_reply-${refusedTransfer.id}`, type: 'TransferRejected', reasonCode: 'duplicate_id_different_body' },
  });
  add({
    family: 'replay, same body', topic: Topics.ledgerCommands, key: accounts.funding,
    value: json(envelope('PostTransfer', { transferId: fundingTransferId, debitAccountId: accounts.funding, creditAccountId: accounts.payer, amount: { amountMinor: '10000', currency: 'EUR' } })),
    ignoredBecause: 'a transfer id already posted with the same body is a replay: the ledger answers with the first outcome and appends nothing',
  });

  // Amounts above 2^63 are well formed (up to 31 digits of minor units, bigint everywhere): the ledger refuses them for funds.
  // KNOWN BUG (not fixed here: apps/risk is another helper's): risk counts a requested amount in the
  // payer's 24 h amount velocity before anything is authorized, so one RequestPayment of ~10^30 minor
  // units naming a payer (anyone may publish it on Kafka) makes risk decline every later payment of
  // that payer for a day (velocity_payer_amount_24h, score 100): run 9 of this spec saw the real
  // payment after the run declined so. With that fixed, this case names the real payer again:
  // add({
  //   family: 'amount above 2^63', topic: Topics.paymentsCommands, key: 'hostile',
  //   value: json(envelope('RequestPayment', requestPaymentData(randomUUID(), { amountMinor: (2n ** 100n).toString(), currency: 'EUR' }))),
  //   declines: { paymentId: '<its id>', outcomes: ['PaymentInReview review_large_amount', 'PaymentDeclined insufficient_funds'] },
  // });
  for (const [index, amountMinor] of sample(fc.bigInt({ min: 2n ** 63n, max: 10n ** 31n - 1n }).map(String), 902, 3).entries()) {
    const paymentId = randomUUID();
    add({
      family: 'amount above 2^63', topic: Topics.paymentsCommands, key: paymentId,
      value: json(envelope('RequestPayment', requestPaymentData(paymentId, { amountMinor, currency: 'EUR' }, accounts.payerHuge))),
      // Risk sends large amounts to an analyst (rule review_large_amount) or declines them (a risk_timeout
      // on a loaded machine too); were it to approve, the ledger would refuse the hold for funds.
      declines: { paymentId, outcomes: ['PaymentInReview', 'PaymentDeclined'] },
    });
    const transfer = envelope('PostTransfer', { transferId: randomUUID(), debitAccountId: accounts.payer, creditAccountId: accounts.merchant, amount: { amountMinor, currency: 'EUR' } });
    add({
      family: 'amount above 2^63', topic: Topics.ledgerCommands, key: accounts.payer, value: json(transfer),
      answer: { streamId: `transfer-${(transfer.data as { transferId: string }).transferId}`, type: 'TransferRejected', reasonCode: 'insufficient_funds' },
    });
    if (index === 0) {
      const holdId = randomUUID();
      add({
        family: 'amount above 2^63', topic: Topics.ledgerCommands, key: accounts.payer,
        value: json(envelope('PlaceHold', { holdId, accountId: accounts.payer, amount: { amountMinor, currency: 'EUR' }, paymentId: randomUUID() })),
        answer: { streamId: `hold-${holdId}`, type: 'HoldRejected', reasonCode: 'insufficient_funds' },
      });
    }
  }

  // A currency that is not the account's: the ledger refuses the hold, the payment is declined for funds.
  const usdPayment = randomUUID();
  add({
    family: 'currency not the account\'s', topic: Topics.paymentsCommands, key: usdPayment,
    value: json(envelope('RequestPayment', requestPaymentData(usdPayment, { amountMinor: '100', currency: 'USD' }))),
    declines: { paymentId: usdPayment, outcomes: ['PaymentDeclined currency_mismatch', 'PaymentDeclined risk_timeout'] },
  });
  const usdTransfer = envelope('PostTransfer', { transferId: randomUUID(), debitAccountId: accounts.payerUsd, creditAccountId: accounts.merchant, amount: { amountMinor: '100', currency: 'USD' } });
  add({
    family: 'currency not the account\'s', topic: Topics.ledgerCommands, key: accounts.payerUsd, value: json(usdTransfer),
    answer: { streamId: `transfer-${(usdTransfer.data as { transferId: string }).transferId}`, type: 'TransferRejected', reasonCode: 'currency_mismatch' },
  });
  // Three capital letters but no ISO 4217 currency: the schema states only the form, validateEnvelope refuses codes that do not exist.
  const notIso = /is not an ISO 4217 currency code/;
  for (const currency of ['XYZ', 'EUX']) {
    const paymentId = randomUUID();
    add({
      family: 'unknown currency', topic: Topics.paymentsCommands, key: paymentId,
      value: json(envelope('RequestPayment', requestPaymentData(paymentId, { amountMinor: '100', currency }))),
      deadLetter: { groups: ['payments-commands'], reason: notIso },
    });
    add({
      family: 'unknown currency', topic: Topics.ledgerCommands, key: accounts.payer,
      value: json(envelope('PostTransfer', { transferId: randomUUID(), debitAccountId: accounts.payer, creditAccountId: accounts.merchant, amount: { amountMinor: '100', currency } })),
      deadLetter: { groups: ['ledger'], reason: notIso },
    });
  }
  const unknownCurrencyAccount = `hostile-xyz-${run}`;
  add({
    family: 'unknown currency', topic: Topics.ledgerCommands, key: unknownCurrencyAccount,
    value: json(envelope('OpenAccount', { accountId: unknownCurrencyAccount, ownerId: `owner-${run}`, kind: 'customer_wallet', currency: 'XYZ' })),
    deadLetter: { groups: ['ledger'], reason: notIso },
  });
  add({
    family: 'unknown currency', topic: Topics.paymentsEvents, key: unknownCurrencyAccount,
    value: json(envelope('PaymentCaptured', { paymentId: state.authorized.paymentId, holdId: state.authorized.holdId, amount: { amountMinor: '300', currency: 'XTS' } }, 1, 'payments')),
    deadLetter: { groups: CONSUMER_GROUPS[Topics.paymentsEvents]!, reason: notIso },
  });

  // KNOWN GAP (design, not fixed here): a Kafka record carries no authenticated channel. The gateway
  // refuses a channel's request naming another channel's account or payment (object-level
  // authorization), but on payments.commands and ledger.commands a RefundPayment of another channel's
  // payment, or a PostTransfer / RequestPayment from another channel's account, is carried out like
  // any other: the consumers cannot tell who sent it (the `channel` field and metadata.producer are
  // whatever the sender wrote). Closing it needs Kafka ACLs per channel, or a channel signature on
  // the record (libs/contracts channel-signature.ts) that the consumers check. For example:
  // add({
  //   family: 'another channel\'s payment', topic: Topics.paymentsCommands, key: firstSale,
  //   value: json(envelope('RefundPayment', { paymentId: firstSale, commandId: `hostile-${run}-refund`, refundId: randomUUID(), amount: { amountMinor: '100', currency: 'EUR' } }, 1, 'mobile')),
  //   answer: { streamId: `payment-${firstSale}`, type: 'PaymentCommandRejected' },
  // });

  // Lifecycle commands the payment's state refuses: answered with PaymentCommandRejected, the payment unchanged.
  const authorized = state.authorized.paymentId;
  const captureUsd = envelope('CapturePayment', { paymentId: authorized, commandId: `hostile-${run}-capture-usd`, amount: { amountMinor: '100', currency: 'USD' } });
  add({
    family: 'currency not the payment\'s', topic: Topics.paymentsCommands, key: authorized, value: json(captureUsd),
    answer: { streamId: `payment-${authorized}`, type: 'PaymentCommandRejected', reasonCode: 'currency_mismatch', commandId: (captureUsd.data as { commandId: string }).commandId },
  });
  const captureTooMuch = envelope('CapturePayment', { paymentId: authorized, commandId: `hostile-${run}-capture-more`, amount: { amountMinor: '9223372036854775808', currency: 'EUR' } });
  add({
    family: 'amount above 2^63', topic: Topics.paymentsCommands, key: authorized, value: json(captureTooMuch),
    answer: { streamId: `payment-${authorized}`, type: 'PaymentCommandRejected', reasonCode: 'amount_exceeds_authorized', commandId: (captureTooMuch.data as { commandId: string }).commandId },
  });
  const refundTooMuch = envelope('RefundPayment', { paymentId: firstSale, commandId: `hostile-${run}-refund-more`, refundId: randomUUID(), amount: { amountMinor: '99999999999999999999', currency: 'EUR' } });
  add({
    family: 'amount above 2^63', topic: Topics.paymentsCommands, key: firstSale, value: json(refundTooMuch),
    answer: { streamId: `payment-${firstSale}`, type: 'PaymentCommandRejected', reasonCode: 'amount_exceeds_refundable', commandId: (refundTooMuch.data as { commandId: string }).commandId },
  });
  const voidSettled = envelope('VoidPayment', { paymentId: firstSale, commandId: `hostile-${run}-void-settled` });
  add({
    family: 'command the state refuses', topic: Topics.paymentsCommands, key: firstSale, value: json(voidSettled),
    answer: { streamId: `payment-${firstSale}`, type: 'PaymentCommandRejected', reasonCode: 'invalid_state', commandId: (voidSettled.data as { commandId: string }).commandId },
  });
  // A timer that no wait of a settled payment is open for.
  add({
    family: 'command the state refuses', topic: Topics.paymentsCommands, key: firstSale,
    value: json(envelope('FirePaymentTimeout', { paymentId: firstSale, wait: 'ledger', deadlineId: 'ledger:capture', attempt: 1, dueAt: new Date().toISOString() })),
    ignoredBecause: 'a timer whose wait is no longer open (the payment is settled) is ignored by the process manager: late answers and timers never change a finished payment',
  });
  // Ledger commands naming holds that do not exist.
  for (const type of ['CaptureHold', 'VoidHold'] as const) {
    const holdId = randomUUID();
    const data = type === 'CaptureHold'
      ? { holdId, accountId: accounts.payer, creditAccountId: accounts.merchant, amount: { amountMinor: '100', currency: 'EUR' }, paymentId: randomUUID() }
      : { holdId, accountId: accounts.payer };
    const command = envelope(type, data);
    add({
      family: 'unknown hold', topic: Topics.ledgerCommands, key: accounts.payer, value: json(command),
      answer: { streamId: `ledger_reply-${command.id}`, type: type === 'CaptureHold' ? 'CaptureRejected' : 'HoldReleaseRejected', reasonCode: 'hold_not_found' },
    });
  }
}

/** Events that no service produced, claiming to come from one that does not (or from one that does, about what it never decided). */
function addForgedEventCases(add: (hostile: Omit<HostileCase, 'id'>) => void, state: AcceptedState): void {
  const [firstSale] = state.saleIds as [string];
  const unknownPayment = randomUUID();
  const unknownHold = randomUUID();
  const money = { amountMinor: '100', currency: 'EUR' };
  const balances = { currency: 'EUR', postedMinor: '0', pendingMinor: '100', availableMinor: '-100' };
  const ignoredAnswer = 'payments-process ignores an answer about a payment it is not waiting for (unknown, or in another state): the process manager decides [] and appends nothing (docs: "an answer from risk, the ledger or a timer that no longer applies is ignored")';
  add({
    family: 'forged event, unknown payment', topic: Topics.riskEvents, key: unknownPayment,
    value: json(envelope('RiskAssessed', { paymentId: unknownPayment, payerAccountId: accounts.payer, score: 0, decision: 'approve', reasons: [], ruleSetVersion: 'forged' }, 1, 'ledger')),
    ignoredBecause: ignoredAnswer,
  });
  add({
    family: 'forged event, late answer', topic: Topics.riskEvents, key: firstSale,
    value: json(envelope('RiskAssessed', { paymentId: firstSale, payerAccountId: accounts.payer, score: 99, decision: 'decline', reasons: ['forged'], ruleSetVersion: 'forged' }, 1, 'gateway')),
    ignoredBecause: ignoredAnswer,
  });
  add({
    family: 'forged event, unknown hold', topic: Topics.ledgerEvents, key: unknownHold,
    value: json(envelope('HoldPlaced', { holdId: unknownHold, accountId: accounts.payer, amount: money, paymentId: unknownPayment, balances }, 1, 'risk')),
    ignoredBecause: ignoredAnswer,
  });
  // Out of order: a capture of a hold that was never placed, then the hold.
  const outOfOrderHold = randomUUID();
  add({
    family: 'forged event, out of order', topic: Topics.ledgerEvents, key: outOfOrderHold,
    value: json(envelope('HoldCaptured', { holdId: outOfOrderHold, accountId: accounts.payer, creditAccountId: accounts.merchant, amount: money, paymentId: unknownPayment, debitBalances: balances, creditBalances: balances }, 1, 'ledger')),
    ignoredBecause: ignoredAnswer,
  });
  add({
    family: 'forged event, out of order', topic: Topics.ledgerEvents, key: outOfOrderHold,
    value: json(envelope('HoldPlaced', { holdId: outOfOrderHold, accountId: accounts.payer, amount: money, paymentId: unknownPayment, balances }, 1, 'ledger')),
    ignoredBecause: ignoredAnswer,
  });
  // The authorized payment waits for a capture command, not for the ledger: a forged HoldCaptured of its real hold, and a HoldPlaced of another hold.
  const { paymentId: authorized, holdId: authorizedHold } = state.authorized;
  add({
    family: 'forged event, out of order', topic: Topics.ledgerEvents, key: authorizedHold,
    value: json(envelope('HoldCaptured', { holdId: authorizedHold, accountId: accounts.payer, creditAccountId: accounts.merchant, amount: { amountMinor: '300', currency: 'EUR' }, paymentId: authorized, debitBalances: balances, creditBalances: balances }, 1, 'risk')),
    ignoredBecause: ignoredAnswer,
  });
  add({
    family: 'forged event, wrong hold', topic: Topics.ledgerEvents, key: unknownHold,
    value: json(envelope('HoldPlaced', { holdId: randomUUID(), accountId: accounts.payer, amount: { amountMinor: '300', currency: 'EUR' }, paymentId: authorized, balances }, 1, 'ledger')),
    ignoredBecause: ignoredAnswer,
  });
  for (const type of ['HoldVoided', 'HoldExpired'] as const) {
    const released = { holdId: unknownHold, accountId: accounts.payer, releasedAmountMinor: '100', balances };
    add({
      family: 'forged event, unknown hold', topic: Topics.ledgerEvents, key: unknownHold,
      value: json(envelope(type, type === 'HoldExpired' ? { ...released, expiresAt: new Date().toISOString() } : released, 1, 'ledger')),
      ignoredBecause: 'payments finds no payment for a hold it did not ask for (the hold index) and ignores it',
    });
  }
  // KNOWN BUG (not fixed here: the fix belongs in libs/payments-domain or apps/payments): a forged
  // HoldExpired for an authorized payment's real hold (producer 'risk', an expiresAt six days before
  // the hold's own) makes payments expire the payment at once: it appends PaymentExpired
  // (authorization_expired) and sends ExpireHold, which the ledger refuses (hold_not_expired), so the
  // payer's money stays held for the hold's whole life while the payment can no longer be captured.
  // Payments should accept a HoldExpired only from the ledger for its hold, and not before the expiry
  // it asked for (PaymentAuthorizationStarted.expiresAt). Run 6 of this spec showed it (payment-8838a950...).
  // add({
  //   family: 'forged event, wrong producer', topic: Topics.ledgerEvents, key: authorizedHold,
  //   value: json(envelope('HoldExpired', {
  //     holdId: authorizedHold, accountId: accounts.payer, releasedAmountMinor: '300', balances, expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
  //   }, 1, 'risk')),
  //   ignoredBecause: ignoredAnswer,
  // });
  add({
    family: 'forged event, unknown transfer', topic: Topics.ledgerEvents, key: unknownHold,
    value: json(envelope('TransferPosted', { transferId: randomUUID(), debitAccountId: accounts.payer, creditAccountId: accounts.merchant, amount: money, debitBalances: balances, creditBalances: balances }, 1, 'ledger')),
    ignoredBecause: 'transfers payments did not ask for (a channel\'s own, an operator\'s) are not payments\' business',
  });

  // payments.events, read by settlement, risk and webhooks.
  add({
    family: 'forged event, unknown payment', topic: Topics.paymentsEvents, key: unknownPayment,
    value: json(envelope('PaymentCaptured', { paymentId: unknownPayment, holdId: unknownHold, amount: money }, 1, 'risk')),
    deadLetter: { groups: ['payments-settlement'], reason: new RegExp(`payment ${unknownPayment} is not known to payments`) },
    ignoredBecause: 'risk reads only PaymentRequested; webhooks deliver nothing for a payment no gateway client owns',
  });
  add({
    family: 'forged event, changed amount', topic: Topics.paymentsEvents, key: firstSale,
    value: json(envelope('PaymentCaptured', { paymentId: firstSale, holdId: unknownHold, amount: { amountMinor: '1', currency: 'EUR' } }, 1, 'ledger')),
    deadLetter: { groups: ['payments-settlement'], reason: new RegExp(`payment ${firstSale}`) },
    ignoredBecause: 'risk reads only PaymentRequested; the first sale\'s owner has no webhook subscription, so webhooks record no delivery',
  });
  // Settlement counts a capture only as the payment's stream recorded it (same event id, type, amount):
  // a forged PaymentCaptured for the authorized, never captured payment was once added to the merchant's
  // batch, settled and paid out (run 10 of this spec), leaving the next real payout short of funds.
  add({
    family: 'forged event, never captured', topic: Topics.paymentsEvents, key: authorized,
    value: json(envelope('PaymentCaptured', { paymentId: authorized, holdId: authorizedHold, amount: { amountMinor: '300', currency: 'EUR' } }, 1, 'risk')),
    deadLetter: { groups: ['payments-settlement'], reason: new RegExp(`is not on payment ${authorized}'s stream as sent`) },
    ignoredBecause: "risk reads only PaymentRequested; the payment's owner has no webhook subscription, so webhooks record no delivery",
  });
  add({
    family: 'forged event, unknown payment', topic: Topics.paymentsEvents, key: unknownPayment,
    value: json(envelope('PaymentRefunded', { paymentId: unknownPayment, refundId: randomUUID(), amount: money, refundedTotal: money, transferId: randomUUID() }, 1, 'risk')),
    deadLetter: { groups: ['payments-settlement'], reason: new RegExp(`payment ${unknownPayment} is not known to payments`) },
    ignoredBecause: 'risk reads only PaymentRequested; webhooks deliver nothing for a payment no gateway client owns',
  });
  add({
    family: 'forged event, replay changed body', topic: Topics.paymentsEvents, key: firstSale,
    value: json(envelope('PaymentRequested', { ...state.firstSaleRequest, amount: { amountMinor: '5', currency: 'EUR' }, requestedAt: new Date().toISOString() }, 1, 'ledger')),
    ignoredBecause: 'risk assesses a payment once (risk-<paymentId> exists); settlement reads only captures and refunds; the sale\'s owner has no webhook subscription',
  });
  // KNOWN BUG (not fixed here; apps/risk is another helper's): a forged PaymentRequested for a
  // payment that does not exist is assessed by risk as if payments had produced it: risk appends
  // risk-<paymentId> (RiskAssessed + RiskDecisionInputsRecorded) and counts it in the Redis velocity
  // features, which raises the score of the payer's real payments. Run 15 of this spec, with the case
  // live, saw risk-<paymentId> gain RiskAssessed and RiskDecisionInputsRecorded. Risk should assess only
  // a payment whose stream holds that PaymentRequested.
  // add({
  //   family: 'forged event, unknown payment', topic: Topics.paymentsEvents, key: unknownPayment,
  //   value: json(envelope('PaymentRequested', { ...requestPaymentData(unknownPayment, money), requestedAt: new Date().toISOString() }, 1, 'ledger')),
  //   ignoredBecause: 'risk should assess only payments the event store holds',
  // });
  add({
    family: 'forged event, unknown payment', topic: Topics.settlementEvents, key: merchantId,
    value: json(envelope('RefundSettled', {
      refundId: randomUUID(), paymentId: unknownPayment, merchantId, merchantAccountId: accounts.merchant, settlementBatchId: randomUUID(), currency: 'EUR',
      amountMinor: '100', refundedAt: new Date().toISOString(), settledAt: new Date().toISOString(),
    }, 1, 'risk')),
    ignoredBecause: 'webhooks deliver nothing for a payment no gateway client owns',
  });
}

const ENVELOPE_PROBLEM = /JSON object|id must be a uuid|type must be|schemaVersion must|metadata|data is missing/;

function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- the platform and its accepted state

let platform: RunningPlatform;
let gateway: GatewayClient;
let analyst: GatewayClient;
let kafka: Kafka;
let admin: Admin;
let producer: Producer;
let pool: pg.Pool;
let accepted: AcceptedState;

function paymentBody(amountMinor: string, captureMode: 'automatic' | 'manual' = 'automatic'): Record<string, unknown> {
  return {
    channel: 'e_wallet', merchantId, merchantAccountId: accounts.merchant, payerAccountId: accounts.payer,
    amount: { amountMinor, currency: 'EUR' }, method: 'wallet', captureMode, riskContext: { ipAddress: '203.0.113.7', deviceId: `device-${run}` },
  };
}

async function pay(amountMinor: string, until: string, captureMode: 'automatic' | 'manual' = 'automatic'): Promise<string> {
  const created = await gateway.post('/v1/payments', paymentBody(amountMinor, captureMode));
  expect(created.status).toBe(202);
  const paymentId: string = created.body.paymentId;
  const done = await gateway.waitFor(`/v1/payments/${paymentId}`, (response) => [until, 'declined', 'failed'].includes(response.body?.status), 60_000);
  expect(done.body.status).toBe(until);
  return paymentId;
}

async function streamEvents(streamIds: readonly string[]): Promise<Map<string, string[]>> {
  const { rows } = await pool.query<{ stream_id: string; message_type: string }>(
    'select stream_id, message_type from event_store.messages where stream_id = any($1::text[]) order by stream_id, stream_version', [streamIds]);
  const events = new Map<string, string[]>(streamIds.map((streamId) => [streamId, []]));
  for (const row of rows) events.get(row.stream_id)!.push(row.message_type);
  return events;
}

/** Settlement lines (payments and refunds counted in a batch) of the payments given, by batch stream. */
async function settlementLinesOf(paymentIds: readonly string[]): Promise<string[]> {
  const { rows } = await pool.query<{ line: string }>(
    `select stream_id || ' ' || message_type || ' ' || (data->>'paymentId') as line from event_store.messages
     where category = 'settlement' and message_type in ('PaymentAddedToSettlementBatch', 'RefundAddedToSettlementBatch') and data->>'paymentId' = any($1::text[])
     order by 1`, [paymentIds]);
  return rows.map((row) => row.line);
}

/** The last offset + 1 of every partition of each topic. */
async function endOffsets(topics: readonly string[]): Promise<Map<string, Map<number, bigint>>> {
  const ends = new Map<string, Map<number, bigint>>();
  for (const topic of topics) ends.set(topic, new Map((await admin.fetchTopicOffsets(topic)).map((entry) => [entry.partition, BigInt(entry.high)])));
  return ends;
}

/** Waits until every group has committed past `ends` on every partition that got records after `starts`. */
async function waitUntilConsumed(starts: Map<string, Map<number, bigint>>, ends: Map<string, Map<number, bigint>>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let behind: string[] = [];
  while (Date.now() < deadline) {
    behind = [];
    for (const group of ALL_GROUPS) {
      const topics = CONSUMED_TOPICS.filter((topic) => CONSUMER_GROUPS[topic]!.includes(group));
      const committed = await admin.fetchOffsets({ groupId: group, topics });
      for (const { topic, partitions } of committed) {
        for (const { partition, offset } of partitions) {
          const end = ends.get(topic)?.get(partition) ?? 0n;
          if (end === (starts.get(topic)?.get(partition) ?? 0n)) continue;
          if (BigInt(offset) < end) behind.push(`${group} ${topic}/${partition} at ${offset} < ${end}`);
        }
      }
    }
    if (behind.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`consumers did not get past the hostile records within ${timeoutMs} ms (a wedged partition?): ${behind.join('; ')}`);
}

interface DeadLetter {
  topic: string;
  caseId: string;
  group: string;
  reason: string;
  originalTopic: string;
}

beforeAll(async () => {
  kafka = new Kafka({ clientId: `e2e-hostile-${run}`, brokers: (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(','), logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  await admin.connect();
  // The services' consumer groups are fixed names shared by everything on this broker: a platform left
  // running elsewhere (npm start, chaos) would take some partitions and handle the hostile records there.
  const { groups } = await admin.describeGroups(ALL_GROUPS);
  const busy = groups.filter((group) => group.members.length > 0).map((group) => group.groupId);
  if (busy.length > 0) throw new Error(`another platform consumes the shared consumer groups ${busy.join(', ')} on this broker; stop it and run again`);
  platform = await startPlatform({
    basePort: BASE_PORT,
    env: { DATABASE_URL, LOG_LEVEL: 'info', PAYMENTS_SETTLEMENT_INTERVAL_MS: '2000' },
    logDirectory: join(root, '.cache/logs/e2e-hostile'),
    readyTimeoutMs: 180_000,
  });
  pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  gateway = gatewayClient(`http://127.0.0.1:${platform.ports.gateway}`);
  analyst = gatewayClient(`http://127.0.0.1:${platform.ports.gateway}`, DEVELOPMENT_CHANNEL_CREDENTIALS.analyst);

  const opened = [
    { accountId: accounts.funding, kind: 'funding', currency: 'EUR', allowNegativeBalance: true },
    { accountId: accounts.payer, kind: 'customer_wallet', currency: 'EUR' },
    { accountId: accounts.merchant, kind: 'merchant', currency: 'EUR' },
    { accountId: accounts.payerUsd, kind: 'customer_wallet', currency: 'USD' },
    { accountId: accounts.payerHuge, kind: 'customer_wallet', currency: 'EUR' },
  ];
  for (const account of opened) expect((await gateway.post('/v1/accounts', { ...account, ownerId: `owner-${run}` })).status).toBe(202);
  for (const account of opened) await gateway.waitFor(`/v1/accounts/${account.accountId}`, (response) => response.status === 200);
  const funded = await gateway.post('/v1/transfers', {
    transferId: fundingTransferId, debitAccountId: accounts.funding, creditAccountId: accounts.payer, amount: { amountMinor: '10000', currency: 'EUR' },
  });
  expect(funded.status).toBe(202);
  await gateway.waitFor(`/v1/accounts/${accounts.payer}`, (response) => response.body?.balances?.postedMinor === '10000');

  const saleIds = [await pay('1250', 'settled'), await pay('700', 'settled')];
  const authorizedId = await pay('300', 'authorized', 'manual');
  const { rows: holds } = await pool.query<{ data: { holdId: string } }>(
    "select data from event_store.messages where stream_id = $1 and message_type = 'PaymentAuthorized'", [`payment-${authorizedId}`]);
  const { rows: requested } = await pool.query<{ data: Record<string, unknown> }>(
    "select data from event_store.messages where stream_id = $1 and message_type = 'PaymentRequested'", [`payment-${saleIds[0]}`]);
  const { requestedAt: _requestedAt, ...firstSaleRequest } = requested[0]!.data;
  accepted = { saleIds, authorized: { paymentId: authorizedId, holdId: holds[0]!.data.holdId }, firstSaleRequest };
  // Both sales are paid out: the merchant account is back at zero, so no settlement moves balances during the run.
  await gateway.waitFor(`/v1/accounts/${accounts.merchant}`, (response) => response.body?.balances?.postedMinor === '0', 60_000);
});

afterAll(async () => {
  await producer?.disconnect();
  await admin?.disconnect();
  await pool?.end();
  await platform?.stop();
});

describe('hostile records on every topic a consumer reads', () => {
  it('are dead-lettered with a reason or ignored as documented, change nothing accepted, and wedge nothing', async () => {
    const cases = buildCases(accepted);
    const caseById = new Map(cases.map((hostile) => [hostile.id, hostile]));
    const namedStreams = [...new Set(cases.flatMap(streamsNamedBy))];
    const acceptedPaymentIds = [...accepted.saleIds, accepted.authorized.paymentId];
    const paymentsBefore = await Promise.all(acceptedPaymentIds.map(async (paymentId) => (await gateway.get(`/v1/payments/${paymentId}`)).body));
    const balancesBefore = await Promise.all(Object.values(accounts).map(async (accountId) => (await analyst.get(`/v1/accounts/${accountId}`)).body.balances));
    const eventsBefore = await streamEvents(namedStreams);
    const namedPaymentIds = namedStreams.filter((streamId) => streamId.startsWith('payment-')).map((streamId) => streamId.slice('payment-'.length));
    const settlementLinesBefore = await settlementLinesOf(namedPaymentIds);
    const payoutBefore = BigInt((await analyst.get(`/v1/accounts/${settlementAccount}`)).body.balances.postedMinor);
    const deadLetterTopics = CONSUMED_TOPICS.map((topic) => `${topic}.dlq`);
    const deadLettersFrom = await endOffsets(deadLetterTopics);

    const publishedFrom = await endOffsets(CONSUMED_TOPICS);
    const startedAt = performance.now();
    for (const hostile of cases.filter((candidate) => !candidate.compress)) {
      // One send per record, in order: the per-key order of a replay and its original, an out-of-order pair, stays as written.
      await producer.send({ topic: hostile.topic, messages: [{ key: hostile.key, value: hostile.value, headers: { [CASE_HEADER]: hostile.id } }] });
    }
    for (const hostile of cases.filter((candidate) => candidate.compress)) {
      await producer.send({ topic: hostile.topic, compression: CompressionTypes.GZIP, messages: [{ key: hostile.key, value: hostile.value, headers: { [CASE_HEADER]: hostile.id } }] });
    }
    const publishedUpTo = await endOffsets(CONSUMED_TOPICS);
    await waitUntilConsumed(publishedFrom, publishedUpTo, 80_000);
    const consumedMs = performance.now() - startedAt;

    // Every service still answers ready: none crashed or lost its database or broker.
    for (const [service, port] of Object.entries(platform.ports)) {
      expect({ service, exited: platform.processes.get(service as keyof typeof platform.ports)!.exitCode }).toEqual({ service, exited: null });
      const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
      expect({ service, status: ready.status }).toEqual({ service, status: 200 });
    }

    const deadLetters = await readDeadLetters(deadLettersFrom, await endOffsets(deadLetterTopics));
    const problems: string[] = [];
    for (const letter of deadLetters) {
      if (!caseById.has(letter.caseId)) continue;
      if (letter.reason.trim().length === 0) problems.push(`${letter.caseId} dead-lettered by ${letter.group} without a reason`);
    }
    const outcomes = { deadLettered: new Map<string, number>(), ignored: 0, refusedWithAnswer: 0, declined: 0 };
    for (const hostile of cases) {
      const letters = deadLetters.filter((letter) => letter.caseId === hostile.id);
      for (const group of CONSUMER_GROUPS[hostile.topic]!) {
        const mine = letters.filter((letter) => letter.group === group);
        const expected = hostile.deadLetter?.groups.includes(group) ?? false;
        if (expected && mine.length !== 1) problems.push(`${hostile.id} (${hostile.family} on ${hostile.topic}) should be dead-lettered once by ${group}, was ${mine.length} times`);
        if (!expected && mine.length > 0) problems.push(`${hostile.id} (${hostile.family} on ${hostile.topic}) should not be dead-lettered by ${group}: ${mine[0]!.reason}`);
        if (expected && mine.length === 1 && !hostile.deadLetter!.reason.test(mine[0]!.reason)) {
          problems.push(`${hostile.id} (${hostile.family} on ${hostile.topic}) dead-lettered by ${group} with a reason not naming the fault: ${mine[0]!.reason}`);
        }
        if (mine.length > 0 && mine[0]!.originalTopic !== hostile.topic) problems.push(`${hostile.id} dead-letter names topic ${mine[0]!.originalTopic}`);
      }
      const dlqTopic = `${hostile.topic}.dlq`;
      if (letters.length > 0) outcomes.deadLettered.set(dlqTopic, (outcomes.deadLettered.get(dlqTopic) ?? 0) + letters.length);
      if (hostile.answer) outcomes.refusedWithAnswer += 1;
      else if (hostile.declines) outcomes.declined += 1;
      else if (letters.length === 0) outcomes.ignored += 1;
    }
    const summary = {
      seed: SEED, records: cases.length, consumedMs: Math.round(consumedMs),
      deadLettered: Object.fromEntries(outcomes.deadLettered), ignored: outcomes.ignored,
      refusedWithAnswer: outcomes.refusedWithAnswer, declined: outcomes.declined,
      families: Object.fromEntries([...new Set(cases.map((hostile) => hostile.family))].map((family) => [family, cases.filter((hostile) => hostile.family === family).length])),
    };
    // The seed and the outcome counts, for a failing run to be repeated and a passing one to be read.
    process.stdout.write(`kafka hostile input: ${JSON.stringify(summary)}\n`);
    expect(problems).toEqual([]);

    // Refused commands got the domain's answer.
    for (const hostile of cases.filter((candidate) => candidate.answer !== undefined)) {
      const { streamId, type, reasonCode, commandId } = hostile.answer!;
      const answer = await eventuallyRow(`${type} on ${streamId}`, () => pool.query<{ message_type: string; data: { reasonCode?: string } }>(
        "select message_type, data from event_store.messages where stream_id = $1 and message_type = $2 and ($3::text is null or data->>'commandId' = $3)",
        [streamId, type, commandId ?? null]));
      expect({ case: hostile.family, reasonCode: answer.data.reasonCode }).toEqual({ case: hostile.family, reasonCode });
    }
    // Well-formed requests for new payments the platform cannot make are declined or held for review, never authorized.
    for (const hostile of cases.filter((candidate) => candidate.declines !== undefined)) {
      const { paymentId, outcomes } = hostile.declines!;
      const first = await eventuallyRow(`payment ${paymentId} decided`, () => pool.query<{ message_type: string; data: { reasonCode?: string; reasons?: string[] } }>(
        `select message_type, data from event_store.messages where stream_id = $1
         and message_type in ('PaymentInReview', 'PaymentDeclined', 'PaymentAuthorized', 'PaymentCaptured', 'PaymentFailed') order by stream_version limit 1`,
        [`payment-${paymentId}`]));
      const outcome = `${first.message_type} ${first.data.reasonCode ?? first.data.reasons?.[0] ?? ''}`;
      const allowed = outcomes.some((expected) => outcome === expected || outcome.startsWith(`${expected} `));
      expect({ case: hostile.family, outcome, allowed }).toEqual({ case: hostile.family, outcome, allowed: true });
    }

    // The streams the hostile records name gained nothing but refusals.
    const declinedStreams = new Set(cases.flatMap((hostile) => (hostile.declines ? [`payment-${hostile.declines.paymentId}`, `risk-${hostile.declines.paymentId}`] : [])));
    const eventsAfter = await streamEvents(namedStreams);
    const gained: string[] = [];
    for (const [streamId, before] of eventsBefore) {
      if (declinedStreams.has(streamId)) continue;
      const added = eventsAfter.get(streamId)!.slice(before.length);
      expect(eventsAfter.get(streamId)!.slice(0, before.length)).toEqual(before);
      for (const type of added) if (!REFUSAL_TYPES.has(type)) gained.push(`${streamId}: ${type}`);
    }
    expect(gained).toEqual([]);

    // No settlement batch counted a line for a payment the hostile records name (a forged capture or refund).
    expect(await settlementLinesOf(namedPaymentIds)).toEqual(settlementLinesBefore);

    // The accepted payments and the balances read back the same (balances come from analytics: it may take a moment to catch up).
    const paymentsAfter = await Promise.all(acceptedPaymentIds.map(async (paymentId) => (await gateway.get(`/v1/payments/${paymentId}`)).body));
    expect(paymentsAfter).toEqual(paymentsBefore);
    for (const [index, accountId] of Object.values(accounts).entries()) {
      await analyst.waitFor(`/v1/accounts/${accountId}`, (response) => JSON.stringify(response.body?.balances) === JSON.stringify(balancesBefore[index]), 15_000);
    }

    // Nothing is wedged: a new real payment still goes all the way through, and its batch pays the
    // merchant exactly its net (a batch that counted a forged line would pay out more, or be refused).
    const last = await pay('400', 'settled');
    const settled = await eventuallyRow(`PaymentSettled of ${last}`, () => pool.query<{ data: { netMinor: string } }>(
      "select data from event_store.messages where message_type = 'PaymentSettled' and data->>'paymentId' = $1", [last]));
    const payoutAfter = (payoutBefore + BigInt(settled.data.netMinor)).toString();
    await analyst.waitFor(`/v1/accounts/${settlementAccount}`, (response) => response.body?.balances?.postedMinor === payoutAfter, 30_000);
    await analyst.waitFor(`/v1/accounts/${accounts.merchant}`, (response) => response.body?.balances?.postedMinor === '0', 30_000);
  });

  it('above 1 MiB, uncompressed, is refused by the broker before any consumer sees it', async () => {
    const value = Buffer.alloc(HUGE_VALUE_BYTES, 'x');
    await expect(producer.send({ topic: Topics.paymentsCommands, messages: [{ key: 'hostile', value, headers: { [CASE_HEADER]: `${run}-huge` } }] }))
      .rejects.toThrow(/larger than the max message size/);
  });
});

/** The streams a record names: every id in its data, in every category that could hold it. */
function streamsNamedBy(hostile: HostileCase): string[] {
  if (hostile.value === null || hostile.compress) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(hostile.value.toString('utf8'));
  } catch {
    return [];
  }
  const data = (parsed as { data?: unknown } | null)?.data;
  if (typeof data !== 'object' || data === null) return [];
  const ids = new Set<string>();
  for (const [field, value] of Object.entries(data)) {
    if (typeof value === 'string' && /Id$/.test(field) && /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/.test(value)) ids.add(value);
  }
  const streams = [...ids].flatMap((id) => ['payment', 'account', 'hold', 'transfer', 'risk'].map((category) => `${category}-${id}`));
  if (hostile.answer) streams.push(hostile.answer.streamId);
  return streams;
}

async function eventuallyRow<Row extends pg.QueryResultRow>(description: string, query: () => Promise<pg.QueryResult<Row>>, timeoutMs = 30_000): Promise<Row> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { rows } = await query();
    if (rows[0] !== undefined) return rows[0];
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}`);
}

/** Every record of the dead-letter topics between the offsets given, read by a consumer of its own. */
async function readDeadLetters(from: Map<string, Map<number, bigint>>, to: Map<string, Map<number, bigint>>): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = [];
  let remaining = 0;
  for (const [topic, partitions] of to) for (const [partition, end] of partitions) remaining += Number(end - (from.get(topic)?.get(partition) ?? 0n));
  if (remaining === 0) return letters;
  const consumer: Consumer = kafka.consumer({ groupId: `e2e-hostile-dlq-${run}-${randomUUID().slice(0, 8)}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [...to.keys()], fromBeginning: true });
    let done!: () => void;
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        const start = from.get(topic)?.get(partition) ?? 0n;
        const end = to.get(topic)?.get(partition) ?? 0n;
        const offset = BigInt(message.offset);
        if (offset < start || offset >= end) return;
        const header = (name: string): string => {
          const value = message.headers?.[name];
          const first = Array.isArray(value) ? value[0] : value;
          return first === undefined ? '' : first.toString();
        };
        letters.push({ topic, caseId: header(CASE_HEADER), group: header('dlq-consumer-group'), reason: header('dlq-reason'), originalTopic: header('dlq-original-topic') });
        remaining -= 1;
        if (remaining === 0) done();
      },
    });
    for (const [topic, partitions] of from) for (const [partition, offset] of partitions) consumer.seek({ topic, partition, offset: String(offset) });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([finished, new Promise((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`${remaining} dead-letter records not read within 30 s`)), 30_000);
    })]);
    clearTimeout(timer);
  } finally {
    await consumer.disconnect();
  }
  return letters;
}
