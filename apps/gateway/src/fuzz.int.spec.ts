// Fuzzes the gateway with 10,000 malformed requests (fast-check, a fixed seed printed with every run
// and every failure: FUZZ_SEED=<seed> repeats a run, FUZZ_SEED=random explores, FUZZ_RUNS=<n> changes its size) on real Redis
// and Kafka, 20 in flight at a time, from a client of its own (unthrottled, so no answer is a 429:
// the limiter is proven in security-api.int.spec.ts, and a 429 would hide what the request met).
// Every route of /v1 and paths that are none, with: bodies that break the route's shape (wrong
// types, huge and float and negative amounts, unknown fields, __proto__ / constructor / prototype
// keys, nested garbage, deep nesting, unicode), invalid JSON and UTF-8, other content types, bodies
// over 64 KiB; malformed ids, paths and query parameters; bad Idempotency-Keys; missing, wrong,
// tampered, stale, replayed or unknown-key signatures.
//
// What it proves:
// - every answer is a 4xx (never a 5xx, never a 2xx) with content type application/problem+json and
//   a problem document (type, title, status equal to the HTTP status), quoting no secret;
// - the answers are mostly 400/401/404/413/415/422 (the distribution is printed);
// - nothing changed: no message on payments.commands or ledger.commands carries a correlation id of
//   a fuzz request. The ledger and the payments service change state only on the commands they read
//   from those topics (the gateway has no other way to them: no database, no HTTP call to them), so
//   with no command sent, no ledger or payment state can have changed, whether or not those services
//   run now. The check reads every message appended to both topics from before the first request to
//   after the last (offsets taken before and after), so a message published by any gateway instance
//   at any moment of the run is seen. The fuzz client owns no account or payment, so a well-formed
//   command is still refused (404 / 422) by object-level authorization; only POST /v1/accounts could
//   succeed on a well-formed body, so its bodies always break a required field.
// Analytics is a stand-in that answers 404 to everything: a read that gets that far is 4xx too.
import 'reflect-metadata';
import { jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { ALL_TOPICS, DEVELOPMENT_CHANNEL_CREDENTIALS, signatureHeaders, Topics, type ChannelCredentials } from '@clearline/contracts';
import { createKafka, ensureTopics, kafkaSettingsFromEnv, silentLogger } from '@clearline/messaging';
import { eventually } from '@clearline/testing';
import fc from 'fast-check';
import type { Kafka } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { configuredClient, startGateway, type ConfiguredClient } from './configured-client.test-kit.js';
import { freshNonce } from './signed-fetch.test-kit.js';

// 10,000 requests take ~250 s on a 2-core machine under load average 30 (the gateway and the client
// share this process); the bound leaves room for such a machine.
jest.setTimeout(600_000);

/** Fixed, so the suite is repeatable; FUZZ_SEED=<n> replays a run, FUZZ_SEED=random explores new ones. */
const DEFAULT_SEED = 20261127;
const SEED = process.env['FUZZ_SEED'] === 'random' ? Math.floor(Math.random() * 2 ** 31) : Number(process.env['FUZZ_SEED'] ?? DEFAULT_SEED);
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 10_000);
const CONCURRENCY = Number(process.env['FUZZ_CONCURRENCY'] ?? 20);
const COMMAND_TOPICS = [Topics.paymentsCommands, Topics.ledgerCommands];
/** The answers a malformed request should mostly get; anything else 4xx is allowed but must stay rare. */
const EXPECTED_STATUSES = new Set([400, 401, 404, 413, 415, 422]);

const run = randomUUID().slice(0, 8);
let analytics: Server;
let gateway: { app: INestApplication; url: string };
let client: ConfiguredClient;
let kafka: Kafka;

// ---------------------------------------------------------------- the malformed requests

type Signing = 'correct' | 'missing-header' | 'bad-signature' | 'stale' | 'unknown-key' | 'tampered' | 'bad-nonce' | 'replayed';

interface FuzzCase {
  method: string;
  /** Path and query as given to URL (already percent-encoded where it should be). */
  target: string;
  body?: string | Uint8Array;
  /** null: no content-type header at all. */
  contentType: string | null;
  idempotencyKey: string | null;
  signing: Signing;
  /** A correlation id the correlation middleware refuses (it then makes one: read back from the answer). */
  badCorrelationId: boolean;
  extraHeaders: Record<string, string>;
  /** For the summary: what kind of malformation this case is. */
  kind: string;
}

/** A JSON number the JSON writer cannot produce from a JS number: written into the text in place of its marker. */
const RAW_NUMBERS = ['1e400', '-1e400', '123456789012345678901234567890', '0.1e-400', '-0', '9007199254740993', '1.5', '-100', '12.34', '1E2'];
const rawMarker = (index: number) => `@@raw${index}@@`;
/** Nesting too deep for the JSON writer's stack: written into the text in place of its marker too. */
const deepMarker = (depth: number, shape: 'array' | 'object') => `@@deep:${shape}:${depth}@@`;
const withRawNumbers = (text: string) => text
  .replace(/"@@raw(\d+)@@"/g, (_match, index: string) => RAW_NUMBERS[Number(index)]!)
  .replace(/"@@deep:(array|object):(\d+)@@"/g, (_match, shape: string, depth: string) => (shape === 'array' ? '['.repeat(Number(depth)) + '1' + ']'.repeat(Number(depth)) : '{"a":'.repeat(Number(depth)) + '1' + '}'.repeat(Number(depth))));

/** Values of every wrong type, for any field. */
/**
 * An empty array or object made anew for each request: a shared constant would be mutated by one body's
 * mutations and put into another (once into itself: a circular body JSON cannot write).
 */
function freshEmpty(shape: 'array' | 'object'): fc.Arbitrary<unknown> {
  return fc.constant(shape).map((kind) => (kind === 'array' ? [] : {}));
}

const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(-1, 0, 12.5, -0.01, Number.MAX_SAFE_INTEGER, 2 ** 64),
  fc.constantFrom(...RAW_NUMBERS.map((_, index) => rawMarker(index))),
  fc.boolean(), fc.constant(null), freshEmpty('array'), freshEmpty('object'),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }), fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }), fc.constantFrom('', ' ', '\u0000', 'EUR\n', 'ＥＵＲ', '١٠٠', '100 ', '1e3', '0x10', '-5', '12.50', '∞', 'null', 'true'),
);
/** Keys that must never be treated as fields: unknown ones, and those that reach prototypes. */
const strangeKey = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'isAdmin', 'ownerChannel', 'role', '💥', '', ' ', 'amount.amountMinor', 'a[b]', '$where'),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }),
);
const pollution = fc.constantFrom<unknown>(
  { isAdmin: true }, { amountMinor: '1', currency: 'EUR' }, { prototype: { polluted: true } }, { toString: 'x' }, null, 1, 'x', [],
).map((value) => structuredClone(value));

interface Route {
  method: string;
  path: (id: string) => string;
  /** A well-formed body; mutations break it. */
  template?: Record<string, unknown>;
  /** The kind of id in the path, if any. */
  id?: 'uuid' | 'identifier';
  /** Its body, well-formed, would be accepted even from a client that owns nothing: every body must break a required field. */
  mustBreak?: readonly string[];
  query?: readonly string[];
}

const AMOUNT = { amountMinor: '100', currency: 'EUR' };
const COMMANDS: Route[] = [
  { method: 'POST', path: () => '/v1/payments', template: { channel: 'e_wallet', merchantId: 'm-1', merchantAccountId: 'm-1', payerAccountId: 'fz-payer', amount: AMOUNT, method: 'wallet', description: 'x', captureMode: 'manual', authorizationTtlMs: 60_000, riskContext: { ipAddress: '203.0.113.7', deviceId: 'd-1' } } },
  { method: 'POST', path: () => '/v1/payments', template: { channel: 'card_acquiring', merchantId: 'm-1', merchantAccountId: 'm-1', payerAccountId: 'fz-payer', amount: AMOUNT, method: 'card', card: { number: '4111111111111111', expMonth: 12, expYear: 2030, cvv: '123' } } },
  { method: 'POST', path: (id) => `/v1/payments/${id}/capture`, id: 'uuid', template: { amount: AMOUNT } },
  { method: 'POST', path: (id) => `/v1/payments/${id}/void`, id: 'uuid', template: {} },
  { method: 'POST', path: (id) => `/v1/payments/${id}/refunds`, id: 'uuid', template: { amount: AMOUNT, refundId: randomUUID() } },
  { method: 'POST', path: (id) => `/v1/payments/${id}/review`, id: 'uuid', template: { decision: 'approve' } },
  { method: 'POST', path: () => '/v1/accounts', template: { accountId: `fz-${run}-acct`, ownerId: 'owner', kind: 'merchant', currency: 'EUR', metadata: { a: 'b' } }, mustBreak: ['accountId', 'ownerId', 'kind', 'currency'] },
  { method: 'PATCH', path: (id) => `/v1/accounts/${id}`, id: 'identifier', template: { overdraftLimitMinor: '500', metadata: { segment: 'retail' } } },
  { method: 'POST', path: (id) => `/v1/accounts/${id}/freeze`, id: 'identifier', template: {} },
  { method: 'POST', path: (id) => `/v1/accounts/${id}/unfreeze`, id: 'identifier', template: {} },
  { method: 'POST', path: (id) => `/v1/accounts/${id}/close`, id: 'identifier', template: {} },
  { method: 'POST', path: () => '/v1/transfers', template: { debitAccountId: 'fz-a', creditAccountId: 'fz-b', amount: AMOUNT, transferId: randomUUID() } },
  { method: 'POST', path: () => '/v1/settlement-batches/close', template: { merchantAccountId: 'fz-m', currency: 'EUR' } },
];
const READS: Route[] = [
  { method: 'GET', path: (id) => `/v1/payments/${id}`, id: 'uuid' },
  { method: 'GET', path: (id) => `/v1/accounts/${id}`, id: 'identifier' },
  { method: 'GET', path: (id) => `/v1/accounts/${id}/balance`, id: 'identifier', query: ['asOf', 'position'] },
  { method: 'GET', path: (id) => `/v1/accounts/${id}/history`, id: 'identifier', query: ['limit', 'cursor'] },
  { method: 'GET', path: () => '/v1/transfers', query: ['correlationId', 'limit', 'cursor'] },
  { method: 'GET', path: () => '/v1/settlement-batches', query: ['merchantAccountId', 'currency', 'status', 'limit', 'cursor'] },
  { method: 'GET', path: (id) => `/v1/settlement-batches/${id}`, id: 'uuid' },
];

/** Ids for a path: well-formed (owned by nobody here: a 404), or broken in every way a path can be. */
function idFor(kind: 'uuid' | 'identifier' | undefined): fc.Arbitrary<string> {
  const wellFormed = kind === 'uuid' ? fc.tuple(fc.uuid(), fc.boolean()).map(([id, upper]) => (upper ? id.toUpperCase() : id)) : fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,20}$/);
  return fc.oneof(
    { weight: 3, arbitrary: wellFormed },
    { weight: 3, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 80 }).map(encodeURIComponent) },
    { weight: 2, arbitrary: fc.constantFrom('%zz', '%', '%E0%A4%A', '%00', '%2F', 'a%2F..%2Fb', '%252e', 'x'.repeat(300), '0'.repeat(65), 'null', 'undefined', '__proto__', 'constructor', '-1', '1e400', '%F0%9F%92%A5', '12345678-1234-1234-1234-12345678901g', '%7B%22a%22%3A1%7D') },
    { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 30 }).map(encodeURIComponent) },
  ).filter((id) => id.length > 0 && !/^(\.|%2e){1,2}$/i.test(id));
}

/** Query strings: the route's own parameters with wrong values, unknown ones, repeated ones. */
function queryFor(route: Route): fc.Arbitrary<string> {
  const name = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...(route.query ?? ['limit']), 'limit', 'cursor') },
    { weight: 1, arbitrary: fc.constantFrom('__proto__', '__proto__[x]', 'constructor[prototype][x]', 'limit[]', 'limit[a]', 'a[b][c]', 'format', 'at', '') },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 10 }) },
  );
  const value = fc.oneof(
    fc.constantFrom('', '0', '-1', '1.5', '501', '99999999999999999999', '1e400', 'NaN', 'ten', 'open', 'closed', 'EUR', 'eur', 'yesterday', '2026-02-30T00:00:00Z', '2026-11-27T09:30:00Z', 'a/b', 'x'.repeat(3000), '%zz'),
    fc.string({ unit: 'grapheme', maxLength: 30 }),
  );
  return fc.array(fc.tuple(name, value, fc.boolean()), { minLength: 1, maxLength: 4 })
    .map((pairs) => pairs.map(([key, text, raw]) => (raw ? `${key}=${text}` : `${encodeURIComponent(key)}=${encodeURIComponent(text)}`)).join('&'));
}

type Mutation = (body: Record<string, unknown>) => void;

/** A path into the body to a field (nested objects included). */
function fieldPaths(body: Record<string, unknown>, prefix: string[] = []): string[][] {
  return Object.entries(body).flatMap(([key, value]) => [[...prefix, key], ...(value && typeof value === 'object' && !Array.isArray(value) ? fieldPaths(value as Record<string, unknown>, [...prefix, key]) : [])]);
}

/** The object holding the field at `path`, or undefined when an earlier mutation replaced a parent with something else. */
function parentOf(body: Record<string, unknown>, path: string[]): Record<string, unknown> | undefined {
  let target: unknown = body;
  for (const key of path.slice(0, -1)) target = target !== null && typeof target === 'object' ? (target as Record<string, unknown>)[key] : undefined;
  return target !== null && typeof target === 'object' ? (target as Record<string, unknown>) : undefined;
}

function setAt(body: Record<string, unknown>, path: string[], value: unknown): void {
  const target = parentOf(body, path);
  if (target === undefined) return;
  Object.defineProperty(target, path[path.length - 1]!, { value, enumerable: true, writable: true, configurable: true });
}

function deleteAt(body: Record<string, unknown>, path: string[]): void {
  const target = parentOf(body, path);
  if (target !== undefined) delete target[path[path.length - 1]!];
}

const mutation = (template: Record<string, unknown>): fc.Arbitrary<Mutation> => {
  const paths = fieldPaths(template);
  const anyPath: fc.Arbitrary<string[]> = paths.length > 0 ? fc.constantFrom(...paths) : fc.constant(['x']);
  return fc.oneof(
    { weight: 4, arbitrary: fc.tuple(anyPath, wrongValue).map(([path, value]): Mutation => (body) => setAt(body, path, value)) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom<string[]>(['amount', 'amountMinor'], ['overdraftLimitMinor'], ['amount']), fc.constantFrom<unknown>(12.34, -100, 0, '0', '-100', '12.34', '1e3', '99999999999999999999', rawMarker(0), rawMarker(2), 1e21, '١٠٠'))
      .map(([path, value]): Mutation => (body) => (path[0]! in body ? setAt(body, path, value) : setAt(body, ['amount'], { amountMinor: value, currency: 'EUR' }))) },
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom<string[]>([], ...paths.filter((path) => typeof template[path[0]!] === 'object').map((path) => path)), strangeKey, fc.oneof(wrongValue, pollution))
      .map(([prefix, key, value]): Mutation => (body) => {
        const target = prefix.reduce<unknown>((object, part) => (object as Record<string, unknown>)?.[part], body);
        if (target && typeof target === 'object' && !Array.isArray(target)) setAt(target as Record<string, unknown>, [key], value);
        else setAt(body, [key], value);
      }) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom('__proto__', 'constructor', 'prototype'), pollution).map(([key, value]): Mutation => (body) => setAt(body, [key], key === 'constructor' ? { prototype: value } : value)) },
    { weight: 2, arbitrary: anyPath.map((path): Mutation => (body) => deleteAt(body, path)) },
    { weight: 1, arbitrary: fc.tuple(anyPath, fc.integer({ min: 50, max: 30_000 }), fc.constantFrom<'array' | 'object'>('array', 'object')).map(([path, depth, shape]): Mutation => (body) => setAt(body, path, deepMarker(depth, shape))) },
  );
};

/** A mutation that surely breaks a required field: missing, or of a type no validator takes. */
const breaking = (required: readonly string[]): fc.Arbitrary<Mutation> => fc.tuple(
  fc.constantFrom(...required),
  fc.oneof(fc.constant(undefined), fc.integer(), fc.boolean(), fc.constant(null), freshEmpty('array'), freshEmpty('object'), fc.constantFrom(rawMarker(0), rawMarker(2))),
).map(([key, value]): Mutation => (body) => (value === undefined ? deleteAt(body, [key]) : setAt(body, [key], value)));

const NOT_JSON_TYPES = ['text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream', 'application/jsonx', 'application/vnd.api+json', 'text/json', 'application/json-patch+json', '*/*', 'application', ''];
const UNSUPPORTED_CHARSETS = ['application/json; charset=utf-16', 'application/json; charset=latin1', 'application/json; charset=utf-7', 'application/json; charset=ebcdic'];
const INVALID_JSON = ['{', '}', '{"a":', '{"a":1,}', "{'a':1}", '{a:1}', 'NaN', '{"a":NaN}', '{"a":Infinity}', '/* c */ {}', '{"a":1}{"b":2}', '\u0000', '{"a":"\\x"}', '[', '{"a":01}', '{"a":.5}', '{"a":+1}', '"unterminated', 'tru', 'undefined'];

function bodyFor(route: Route): fc.Arbitrary<{ body?: string | Uint8Array; contentType: string | null; kind: string }> {
  const template = route.template ?? {};
  const mutated = fc.tuple(route.mustBreak ? breaking(route.mustBreak) : mutation(template), fc.array(mutation(template), { maxLength: 2 })).map(([first, more]) => {
    const body = structuredClone(template);
    // A breaking mutation goes last: no other one can repair the field it broke.
    for (const apply of [...more, first]) apply(body);
    return withRawNumbers(JSON.stringify(body));
  });
  const json = 'application/json';
  return fc.oneof(
    { weight: 10, arbitrary: mutated.map((body) => ({ body, contentType: json, kind: 'mutated body' })) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((value) => ({ body: JSON.stringify(value) ?? 'null', contentType: json, kind: 'random JSON' })) },
    { weight: 2, arbitrary: fc.oneof(fc.constantFrom(...INVALID_JSON), fc.string({ unit: 'grapheme', maxLength: 60 })).map((body) => ({ body, contentType: json, kind: 'invalid JSON' })) },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => ({ body: Uint8Array.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, ...bytes, 0x22, 0x7d]), contentType: json, kind: 'invalid UTF-8' })) },
    { weight: 1, arbitrary: fc.integer({ min: 65 * 1024, max: 96 * 1024 }).map((size) => ({ body: JSON.stringify({ ...template, note: 'x'.repeat(size) }), contentType: json, kind: 'over 64 KiB' })) },
    { weight: 2, arbitrary: fc.tuple(mutated, fc.constantFrom<string | null>(...NOT_JSON_TYPES, ...UNSUPPORTED_CHARSETS, null)).map(([body, contentType]) => ({ body, contentType, kind: 'other content type' })) },
    { weight: 1, arbitrary: fc.constant({ contentType: json, kind: 'no body' }) },
  );
}

const idempotencyKey = fc.oneof(
  { weight: 12, arbitrary: fc.uuid() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', 'a b', 'k'.repeat(256), 'clé', 'é', '\t', 'key\u00ff') },
  { weight: 1, arbitrary: fc.constantFrom('fz-shared-1', 'fz-shared-2', 'fz-shared-3') },
);

const signing = fc.oneof(
  { weight: 30, arbitrary: fc.constant<Signing>('correct') },
  ...(['missing-header', 'bad-signature', 'stale', 'unknown-key', 'tampered', 'bad-nonce', 'replayed'] as const).map((value) => ({ weight: 2, arbitrary: fc.constant<Signing>(value) })),
);

const extraHeaders = fc.oneof(
  { weight: 8, arbitrary: fc.constant({}) },
  { weight: 1, arbitrary: fc.constantFrom<Record<string, string>>(
    { accept: 'text/html' }, { accept: 'application/xml' }, { 'x-http-method-override': 'DELETE' }, { 'x-forwarded-for': '1.2.3.4, garbage' },
    { 'x-forwarded-prefix': '/admin' }, { 'content-encoding': 'gzip' }, { 'content-encoding': 'br' }, { 'x-clearline-key-id': 'dev-analyst' },
  ) },
);

function caseFor(route: Route): fc.Arbitrary<FuzzCase> {
  const isCommand = route.method !== 'GET';
  return fc.record({
    id: idFor(route.id),
    query: route.query || !isCommand ? fc.option(queryFor(route), { nil: undefined, freq: 3 }) : fc.option(queryFor(route), { nil: undefined, freq: 1 }),
    body: isCommand ? bodyFor(route) : fc.constant<{ body?: string | Uint8Array; contentType: string | null; kind: string }>({ contentType: null, kind: 'read' }),
    idempotencyKey: isCommand ? idempotencyKey : fc.constant(null),
    signing,
    badCorrelationId: fc.integer({ min: 0, max: 19 }).map((draw) => draw === 0),
    extraHeaders,
  }).map(({ id, query, body, idempotencyKey: key, signing: how, badCorrelationId, extraHeaders: headers }) => ({
    method: route.method,
    target: `${route.path(id)}${query === undefined ? '' : `?${query}`}`,
    ...(body.body === undefined ? {} : { body: body.body }),
    contentType: body.contentType,
    idempotencyKey: key,
    signing: how,
    badCorrelationId,
    extraHeaders: headers,
    kind: `${route.method} ${route.path(':id')}: ${body.kind}`,
  }));
}

/** Paths that are no route, and methods no route has. */
const strayCase: fc.Arbitrary<FuzzCase> = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
  path: fc.oneof(
    fc.constantFrom('/v1', '/v1/', '/v2/payments', '/v1/payment', '/v1/payments/', '/v1//payments', '/v1/accounts/a/b/c', '/v1/transfers/x', '/v1/settlement-batches/close/now', '/api', '/', '/v1/%zz', '/V1/payments', '/v1/accounts;x', '/v1/payments?', '/v1/admin'),
    fc.array(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).map(encodeURIComponent), { minLength: 1, maxLength: 5 }).map((parts) => `/v1/${parts.join('/')}`),
  ),
  body: fc.option(fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value) ?? 'null'), { nil: undefined }),
  signing,
  idempotencyKey: fc.option(fc.uuid(), { nil: null }),
}).map(({ method, path, body, signing: how, idempotencyKey: key }) => ({
  method, target: path, ...(body === undefined || method === 'GET' ? {} : { body }), contentType: 'application/json', idempotencyKey: key, signing: how, badCorrelationId: false, extraHeaders: {}, kind: `${method} (no such route)`,
}));

const fuzzCase: fc.Arbitrary<FuzzCase> = fc.oneof(
  { weight: 13, arbitrary: fc.oneof(...COMMANDS.map(caseFor)) },
  { weight: 5, arbitrary: fc.oneof(...READS.map(caseFor)) },
  { weight: 2, arbitrary: strayCase },
);

// ---------------------------------------------------------------- sending and judging

interface Outcome {
  index: number;
  fuzz: FuzzCase;
  status: number;
  contentType: string;
  text: string;
  correlationId: string | null;
  ms: number;
}

/**
 * Sends a case signed as it says. "correct" signs what the gateway verifies: the path and query as
 * the URL sends them, and the body only when the gateway reads it (a JSON content type: for any other
 * the body is not parsed, so a correctly signing client signs none).
 */
async function send(index: number, fuzz: FuzzCase): Promise<Outcome[]> {
  const url = new URL(fuzz.target, gateway.url);
  const pathWithQuery = `${url.pathname}${url.search}`;
  const jsonBody = fuzz.contentType !== null && /^application\/json(;|$)/i.test(fuzz.contentType);
  const signable = { method: fuzz.method, pathWithQuery, timestampSeconds: Math.floor(Date.now() / 1000), nonce: freshNonce(), ...(jsonBody && fuzz.body !== undefined ? { body: fuzz.body } : {}) };
  const credentials: ChannelCredentials = fuzz.signing === 'unknown-key' ? DEVELOPMENT_CHANNEL_CREDENTIALS.e_wallet : client.credentials;
  let signature = signatureHeaders(credentials, signable);
  if (fuzz.signing === 'stale') signature = signatureHeaders(credentials, { ...signable, timestampSeconds: signable.timestampSeconds + (index % 2 === 0 ? -1 : 1) * (301 + index) });
  if (fuzz.signing === 'tampered') signature = signatureHeaders(credentials, { ...signable, ...[{ body: '{}' }, { pathWithQuery: `${pathWithQuery}x` }, { method: 'DELETE' }][index % 3] });
  if (fuzz.signing === 'bad-nonce') signature = signatureHeaders(credentials, { ...signable, nonce: ['short', 'n'.repeat(65), 'bad nonce with spaces!!', 'ünïcödé-nonce-xxxxxxxx'][index % 4]! });
  if (fuzz.signing === 'bad-signature') signature['x-clearline-signature'] = ['0'.repeat(64), 'A'.repeat(64), 'zz', ''][index % 4]!;
  if (fuzz.signing === 'missing-header') delete signature[['x-clearline-key-id', 'x-clearline-timestamp', 'x-clearline-nonce', 'x-clearline-signature'][index % 4]!];
  if (fuzz.signing === 'stale' && index % 3 === 0) signature['x-clearline-timestamp'] = ['abc', '-5', '1.5e9', '99999999999999'][index % 4]!;
  const headers: Record<string, string> = {
    ...(fuzz.contentType === null ? {} : { 'content-type': fuzz.contentType }),
    ...(fuzz.idempotencyKey === null ? {} : { 'idempotency-key': fuzz.idempotencyKey }),
    'x-correlation-id': fuzz.badCorrelationId ? 'bad id!' : `fz-${run}-${index}`,
    ...fuzz.extraHeaders,
    ...signature,
  };
  const once = async (): Promise<Outcome> => {
    const sentAt = performance.now();
    let response: Response;
    try {
      response = await fetchRetryingReset(url, { method: fuzz.method, headers, ...(fuzz.body === undefined || fuzz.method === 'GET' ? {} : { body: fuzz.body }) });
    } catch (error) {
      // No answer at all, twice: judged as a failure with its cause.
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      return { index, fuzz, status: 0, contentType: '', text: `no answer: ${cause?.code ?? ''} ${cause?.message ?? String(error)}`, correlationId: null, ms: performance.now() - sentAt };
    }
    return { index, fuzz, status: response.status, contentType: response.headers.get('content-type') ?? '', text: await response.text(), correlationId: response.headers.get('x-correlation-id'), ms: performance.now() - sentAt };
  };
  // A replay is the same signed request twice: the second must be refused whatever the first got.
  return fuzz.signing === 'replayed' ? [await once(), await once()] : [await once()];
}

function problemTypeOf(outcome: Outcome): string {
  return /"type":"urn:clearline:problem:([^"]+)"/.exec(outcome.text)?.[1] ?? '';
}

let connectionResets = 0;

/**
 * One retry of a request whose kept-alive connection was reset before any answer: the keep-alive
 * race of any HTTP client (the server closes an idle connection as the client reuses it), frequent
 * on a loaded machine. Counted and printed; the same request reset twice is a failure. A retry that
 * the gateway did see first is refused as a replay (401), a 4xx problem still.
 */
async function fetchRetryingReset(url: URL, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    const code = (error as { cause?: { code?: string } }).cause?.code;
    if (code !== 'ECONNRESET' && code !== 'UND_ERR_SOCKET') throw error;
    connectionResets += 1;
    return fetch(url, init);
  }
}

/** What is wrong with an answer to a malformed request, if anything. */
function problemWith(outcome: Outcome): string | undefined {
  if (outcome.status < 400 || outcome.status >= 500) return `status ${outcome.status}`;
  if (outcome.status === 429) return 'rate-limited: the fuzz measured the limiter, not the request';
  if (!outcome.contentType.includes('application/problem+json')) return `content type '${outcome.contentType}'`;
  let body: { type?: unknown; title?: unknown; status?: unknown };
  try {
    body = JSON.parse(outcome.text) as typeof body;
  } catch {
    return 'body is not JSON';
  }
  if (typeof body.type !== 'string' || !body.type.startsWith('urn:clearline:problem:') || typeof body.title !== 'string' || body.status !== outcome.status) return 'not a problem document';
  if (outcome.text.includes(client.credentials.secret)) return 'quotes the secret';
  return undefined;
}

function describeCase(outcome: Outcome): string {
  const { fuzz } = outcome;
  const body = fuzz.body === undefined ? '' : typeof fuzz.body === 'string' ? fuzz.body.slice(0, 300) : `<${fuzz.body.length} bytes>`;
  return `#${outcome.index} ${fuzz.method} ${fuzz.target.slice(0, 200)} [${fuzz.kind}; signing ${fuzz.signing}; content-type ${fuzz.contentType}; key ${JSON.stringify(fuzz.idempotencyKey)}] ${body}\n  -> ${outcome.status} ${outcome.contentType} ${outcome.text.slice(0, 300)}`;
}

function slowestKinds(outcomes: readonly Outcome[]): string {
  const byKind = new Map<string, number[]>();
  for (const outcome of outcomes) byKind.set(outcome.fuzz.kind, [...(byKind.get(outcome.fuzz.kind) ?? []), outcome.ms]);
  return [...byKind].map(([kind, times]) => [kind, times.reduce((sum, ms) => sum + ms, 0) / times.length] as const)
    .sort(([, a], [, b]) => b - a).slice(0, 4).map(([kind, mean]) => `${kind} ${mean.toFixed(0)}`).join('; ');
}

async function inParallel<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  }));
  return results;
}

// ---------------------------------------------------------------- Kafka: what was appended during the run

type Offsets = Map<string, Map<number, bigint>>;

async function endOffsets(): Promise<Offsets> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets: Offsets = new Map();
    for (const topic of COMMAND_TOPICS) offsets.set(topic, new Map((await admin.fetchTopicOffsets(topic)).map(({ partition, offset }) => [partition, BigInt(offset)])));
    return offsets;
  } finally {
    await admin.disconnect();
  }
}

/** Every message appended to the commands topics between the two snapshots: its correlation id and type. */
async function appendedBetween(from: Offsets, to: Offsets): Promise<{ topic: string; type: string; correlationId: string }[]> {
  const messages: { topic: string; type: string; correlationId: string }[] = [];
  const reached = new Map<string, bigint>();
  const pending = [...to].flatMap(([topic, partitions]) => [...partitions].filter(([partition, end]) => end > (from.get(topic)?.get(partition) ?? 0n)).map(([partition, end]) => ({ topic, partition, end })));
  if (pending.length === 0) return messages;
  const consumer = kafka.consumer({ groupId: `gateway-fuzz-int-test-${run}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: COMMAND_TOPICS, fromBeginning: false });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        const start = from.get(topic)?.get(partition) ?? 0n;
        const end = to.get(topic)?.get(partition) ?? 0n;
        const offset = BigInt(message.offset);
        if (offset < start || offset >= end) return;
        reached.set(`${topic}/${partition}`, offset);
        try {
          const envelope = JSON.parse(String(message.value)) as { type?: string; metadata?: { correlationId?: string } };
          messages.push({ topic, type: String(envelope.type), correlationId: String(envelope.metadata?.correlationId) });
        } catch {
          messages.push({ topic, type: 'not JSON', correlationId: '' });
        }
      },
    });
    for (const { topic, partition } of pending) consumer.seek({ topic, partition, offset: String(from.get(topic)?.get(partition) ?? 0n) });
    await eventually('every message appended during the fuzz run', () => (pending.every(({ topic, partition, end }) => reached.get(`${topic}/${partition}`) === end - 1n) ? true : undefined), 30_000);
  } finally {
    await consumer.disconnect();
  }
  return messages;
}

// ---------------------------------------------------------------- the run

beforeAll(async () => {
  analytics = createServer((_request, response) => {
    response.writeHead(404, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ type: 'urn:clearline:problem:not-found', title: 'Not found', status: 404 }));
  });
  await new Promise<void>((resolve) => analytics.listen(0, '127.0.0.1', resolve));
  Object.assign(process.env, { ANALYTICS_URL: `http://127.0.0.1:${(analytics.address() as AddressInfo).port}`, LOG_LEVEL: process.env['GATEWAY_TEST_LOG'] ?? 'silent' });
  const settings = { ...kafkaSettingsFromEnv('gateway-fuzz-int-test'), logLevel: 'nothing' as const };
  await ensureTopics(settings, ALL_TOPICS);
  kafka = createKafka(settings, silentLogger);
  client = await configuredClient(`fuzz_${run}`);
  gateway = await startGateway(client.environment);
});

afterAll(async () => {
  await gateway?.app.close();
  await new Promise((resolve) => analytics?.close(resolve));
});

it(`answers ${RUNS} malformed requests with 4xx problems and changes nothing`, async () => {
  console.log(`fuzz: seed ${SEED} (repeat with FUZZ_SEED=${SEED}), ${RUNS} requests, ${CONCURRENCY} in flight`);
  const cases = fc.sample(fuzzCase, { seed: SEED, numRuns: RUNS });
  const before = await endOffsets();
  const started = Date.now();
  const outcomes = (await inParallel(cases, CONCURRENCY, (fuzz, index) => send(index, fuzz))).flat();
  const elapsedMs = Date.now() - started;
  const after = await endOffsets();

  const byStatus = new Map<number, number>();
  const byType = new Map<string, number>();
  for (const outcome of outcomes) {
    byStatus.set(outcome.status, (byStatus.get(outcome.status) ?? 0) + 1);
    const type = /"type":"urn:clearline:problem:([^"]+)"/.exec(outcome.text)?.[1] ?? `(${outcome.contentType || 'no content type'})`;
    byType.set(`${outcome.status} ${type}`, (byType.get(`${outcome.status} ${type}`) ?? 0) + 1);
  }
  const expected = outcomes.filter((outcome) => EXPECTED_STATUSES.has(outcome.status)).length;
  console.log([
    `fuzz: ${outcomes.length} answers to ${cases.length} requests in ${(elapsedMs / 1000).toFixed(1)} s (${Math.round(outcomes.length / (elapsedMs / 1000))}/s), seed ${SEED}`,
    `statuses: ${JSON.stringify(Object.fromEntries([...byStatus].sort(([a], [b]) => a - b)))}; ${((100 * expected) / outcomes.length).toFixed(1)}% in ${[...EXPECTED_STATUSES].join('/')}`,
    `slowest kinds (mean ms): ${slowestKinds(outcomes)}; connections reset before an answer and retried once: ${connectionResets}`,
    'problem types:',
    ...[...byType].sort(([, a], [, b]) => b - a).map(([type, count]) => `  ${String(count).padStart(5)}  ${type}`),
  ].join('\n'));

  const failures = outcomes.map((outcome) => ({ outcome, problem: problemWith(outcome) })).filter(({ problem }) => problem !== undefined);
  if (failures.length > 0) console.log(`fuzz: ${failures.length} bad answers (seed ${SEED}); the first:\n${failures.slice(0, 10).map(({ outcome, problem }) => `${problem}: ${describeCase(outcome)}`).join('\n')}`);
  expect({ seed: SEED, badAnswers: failures.length, first: failures.slice(0, 3).map(({ outcome, problem }) => `${problem}: ${describeCase(outcome)}`) }).toEqual({ seed: SEED, badAnswers: 0, first: [] });
  // Replays: the same signed request sent again is refused as a replay once its first sending got
  // past the signature check (the nonce is remembered then); one refused before is refused alike.
  // Refused before: a 401, or a refusal of the body parser or depth check, which runs before the
  // gateway's middleware and so carries no X-Correlation-Id.
  const replays = outcomes.flatMap((outcome, position) => (outcome.fuzz.signing === 'replayed' && outcomes[position - 1]?.index === outcome.index ? [[outcomes[position - 1]!, outcome] as const] : []));
  for (const [first, again] of replays) {
    const refusedBeforeSignatureCheck = first.status === 401 || first.correlationId === null;
    const expectation = refusedBeforeSignatureCheck ? { status: first.status, type: problemTypeOf(first) } : { status: 401, type: 'replayed-request' };
    expect({ seed: SEED, index: again.index, status: again.status, type: problemTypeOf(again) }).toEqual({ seed: SEED, index: again.index, ...expectation });
  }
  expect(expected / outcomes.length).toBeGreaterThanOrEqual(0.95);
  // The mix reached past the signature check to validation, ownership and the body limit.
  for (const status of [400, 401, 404, 413, 422]) expect({ status, seen: (byStatus.get(status) ?? 0) > 0 }).toEqual({ status, seen: true });

  const fuzzCorrelationIds = new Set(outcomes.map((outcome) => outcome.correlationId).filter((id): id is string => id !== null));
  const appended = await appendedBetween(before, after);
  const caused = appended.filter((message) => fuzzCorrelationIds.has(message.correlationId) || message.correlationId.startsWith(`fz-${run}-`));
  console.log(`fuzz: ${appended.length} messages appended to ${COMMAND_TOPICS.join(', ')} during the run (other tests'), ${caused.length} from the fuzz`);
  expect(caused).toEqual([]);
});
