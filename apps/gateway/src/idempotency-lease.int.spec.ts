// Proves the Idempotency-Key claim's lease on real Redis, with the interceptor driving a route whose
// answer the test releases (GATEWAY_IDEMPOTENCY_LEASE_SECONDS=3 here): a request that runs longer than
// the lease keeps its claim (renewed while it runs), so a retry with another body under the same key
// is a 422 and one with the same body a 409, never a second run of the route; its answer is then
// stored and replayed; an answer never overwrites
// a claim that is not its own (a lease that lapsed while its gateway was stalled, then taken by a
// retry); and the setting refuses what is not 3..3600 whole seconds.
import 'reflect-metadata';
import { jest } from '@jest/globals';
import type { CallHandler, ExecutionContext } from '@nestjs/common';
import { ConfigurationError, createLogger, ProblemException } from '@clearline/service-runtime';
import type { Request, Response } from 'express';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { lastValueFrom, from } from 'rxjs';
import { setAuthenticatedClient } from './authenticated-client.js';
import { CardTokenizer } from './card-tokenizer.js';
import { IdempotencyInterceptor, idempotencyLeaseSeconds } from './idempotency.interceptor.js';

jest.setTimeout(30_000);

const LEASE_SECONDS = 3;
const client = `lease-${randomUUID().slice(0, 8)}`;
let redis: Redis;
let interceptor: IdempotencyInterceptor;

interface Call {
  request: Request;
  response: Response & { headers: Record<string, string> };
}

function call(key: string, body: unknown): Call {
  const request = { method: 'POST', path: '/v1/transfers', body, header: (name: string) => (name === 'idempotency-key' ? key : undefined) } as unknown as Request;
  setAuthenticatedClient(request, { client, role: 'channel', keyId: 'k1' });
  const headers: Record<string, string> = {};
  const response = {
    statusCode: 202,
    headers,
    setHeader: (name: string, value: string) => { headers[name] = value; },
    status(code: number) { response.statusCode = code; return response; },
  } as unknown as Call['response'];
  return { request, response };
}

function contextOf({ request, response }: Call): ExecutionContext {
  return { switchToHttp: () => ({ getRequest: () => request, getResponse: () => response }) } as unknown as ExecutionContext;
}

/** A route whose answer the test gives when it wants. */
function slowRoute(): { handler: CallHandler; answer: (body: unknown) => void } {
  let answer!: (body: unknown) => void;
  const answered = new Promise<unknown>((resolve) => { answer = resolve; });
  return { handler: { handle: () => from(answered) }, answer };
}

const recordKeyOf = (key: string) => `gateway:idempotency:${client}:POST:/v1/transfers:${key}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(() => {
  process.env['GATEWAY_IDEMPOTENCY_LEASE_SECONDS'] = String(LEASE_SECONDS);
  redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 2 });
  interceptor = new IdempotencyInterceptor(redis, new CardTokenizer(redis, createLogger('gateway', 'silent')));
});

afterAll(async () => {
  delete process.env['GATEWAY_IDEMPOTENCY_LEASE_SECONDS'];
  const keys = await redis.keys(`gateway:idempotency:${client}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

it('keeps a slow request\'s claim past the lease: another body is a 422, the same body a 409, then the first answer is replayed', async () => {
  const key = randomUUID();
  const first = call(key, { amount: '100' });
  const route = slowRoute();
  const answered = lastValueFrom(interceptor.intercept(contextOf(first), route.handler));
  await sleep((LEASE_SECONDS + 1.5) * 1_000);

  // Had the claim lapsed, either retry would have claimed the key and run the route (answering `second`).
  const second = { handle: () => from(Promise.resolve({ second: true })) };
  const other = await lastValueFrom(interceptor.intercept(contextOf(call(key, { amount: '999' })), second)).catch((error: unknown) => error);
  expect(other).toBeInstanceOf(ProblemException);
  expect((other as ProblemException).getStatus()).toBe(422);
  const same = call(key, { amount: '100' });
  const busy = await lastValueFrom(interceptor.intercept(contextOf(same), second)).catch((error: unknown) => error);
  expect((busy as ProblemException).getStatus()).toBe(409);
  expect(same.response.headers['retry-after']).toMatch(/^[1-3]$/);

  route.answer({ transferId: 't-1' });
  expect(await answered).toEqual({ transferId: 't-1' });
  const retry = call(key, { amount: '100' });
  expect(await lastValueFrom(interceptor.intercept(contextOf(retry), { handle: () => from(Promise.resolve({ again: true })) }))).toEqual({ transferId: 't-1' });
  expect(retry.response.headers['idempotent-replayed']).toBe('true');
});

it('never stores its answer over a claim that is not its own', async () => {
  const key = randomUUID();
  const route = slowRoute();
  const answered = lastValueFrom(interceptor.intercept(contextOf(call(key, { amount: '100' })), route.handler));
  await sleep(100);
  // As if this gateway had stalled past its lease and a retry with another body had claimed the key.
  const theirs = JSON.stringify({ state: 'in_progress', requestHash: 'another-request', claimId: randomUUID() });
  await redis.set(recordKeyOf(key), theirs, 'EX', 60);
  route.answer({ transferId: 't-2' });
  expect(await answered).toEqual({ transferId: 't-2' });
  expect(await redis.get(recordKeyOf(key))).toBe(theirs);
});

it('stores its answer when its claim lapsed and no one took the key', async () => {
  const key = randomUUID();
  const route = slowRoute();
  const answered = lastValueFrom(interceptor.intercept(contextOf(call(key, { amount: '100' })), route.handler));
  await sleep(100);
  await redis.del(recordKeyOf(key));
  route.answer({ transferId: 't-3' });
  await answered;
  expect(JSON.parse((await redis.get(recordKeyOf(key)))!)).toMatchObject({ state: 'completed', status: 202, body: { transferId: 't-3' } });
});

it('reads GATEWAY_IDEMPOTENCY_LEASE_SECONDS as 3..3600 whole seconds, 60 when unset', () => {
  expect(idempotencyLeaseSeconds({})).toBe(60);
  expect(idempotencyLeaseSeconds({ GATEWAY_IDEMPOTENCY_LEASE_SECONDS: '3600' })).toBe(3_600);
  for (const bad of ['2', '3601', '1.5', 'sixty', '-5']) {
    expect(() => idempotencyLeaseSeconds({ GATEWAY_IDEMPOTENCY_LEASE_SECONDS: bad })).toThrow(ConfigurationError);
  }
});
