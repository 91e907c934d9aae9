// Proves who may call the gateway, and how much, on real Redis and Kafka (docs/security.md):
// - every /v1 request is signed (HMAC-SHA256 over method, path and query, timestamp, nonce, body
//   digest); a missing signature, any tampering (body, path, query, method, timestamp), a stale
//   timestamp, a replayed nonce or an unknown key is a 401 problem with its own type, quoting no
//   secret; health, metrics and /docs stay open;
// - keys come from an encrypted configuration; during a rotation the old and the new key both
//   verify, and a removed key is unknown;
// - a channel reaches only its own payments and accounts (another's is a 404 exactly like a missing
//   one, nothing is read or sent), cannot pay or transfer from another's account, cannot take its
//   account ids or correlation ids; an analyst reads everything and changes nothing;
// - unknown fields are still a 400, a body over 64 KiB a 413, a client over its rate a 429 with
//   Retry-After and back in once the bucket refills; every answer carries the security headers;
// - a webhook subscription into the platform's own network (loopback, private, link-local, a cloud's
//   metadata address, a localhost name) is a 422 and nothing is stored.
// Analytics is a stand-in HTTP server (apps do not import each other).
import 'reflect-metadata';
import { jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { ALL_TOPICS, DEVELOPMENT_CHANNEL_CREDENTIALS, type ChannelCredentials } from '@clearline/contracts';
import { ensureTopics, kafkaSettingsFromEnv } from '@clearline/messaging';
import { createServiceApp } from '@clearline/service-runtime';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freshNonce, signedCall, type Answer, type CallOptions } from './signed-fetch.test-kit.js';

jest.setTimeout(60_000);

const run = randomUUID().slice(0, 8);
const { e_wallet: wallet, card_acquiring: acquirer, analyst } = DEVELOPMENT_CHANNEL_CREDENTIALS;
const walletAccount = `sec-${run}-wallet`;
const acquirerAccount = `sec-${run}-acquirer`;

/** The stand-in analytics: 200 for the paths in `known`, a 404 problem otherwise; records what it is asked. */
const asked: string[] = [];
const known = new Map<string, unknown>();
let analytics: Server;
const gateways: INestApplication[] = [];
let baseUrl: string;

const call = (method: string, path: string, options: CallOptions = {}): Promise<Answer> => signedCall(baseUrl, method, path, options);
const command = (method: string, path: string, body: unknown, credentials: ChannelCredentials = wallet, headers: Record<string, string> = {}) =>
  call(method, path, { body, credentials, headers: { 'idempotency-key': randomUUID(), ...headers } });
const problemOf = (answer: Answer) => ({ status: answer.status, type: String(answer.body?.type ?? '').replace('urn:clearline:problem:', '') });

async function startGateway(environment: Record<string, string | undefined>): Promise<string> {
  for (const [name, value] of Object.entries(environment)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  const { AppModule } = await import('./app.module.js');
  const { GATEWAY_APP_OPTIONS } = await import('./gateway-app.js');
  const gateway = await createServiceApp(AppModule, GATEWAY_APP_OPTIONS);
  await gateway.listen(0, '127.0.0.1');
  gateways.push(gateway);
  return gateway.getUrl();
}

function payment(payerAccountId: string): Record<string, unknown> {
  return { channel: 'e_wallet', merchantId: `m-${run}`, merchantAccountId: `m-${run}`, payerAccountId, amount: { amountMinor: '100', currency: 'EUR' }, method: 'wallet' };
}

beforeAll(async () => {
  analytics = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://analytics').pathname;
    asked.push(path);
    const body = known.get(path);
    if (body !== undefined) return void response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    response.writeHead(404, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ type: 'urn:clearline:problem:not-found', title: 'Not found', status: 404 }));
  });
  await new Promise<void>((resolve) => analytics.listen(0, '127.0.0.1', resolve));
  Object.assign(process.env, { ANALYTICS_URL: `http://127.0.0.1:${(analytics.address() as AddressInfo).port}`, LOG_LEVEL: process.env['GATEWAY_TEST_LOG'] ?? 'silent' });
  await ensureTopics({ ...kafkaSettingsFromEnv('gateway-security-int-test'), logLevel: 'nothing' as const }, ALL_TOPICS);
  baseUrl = await startGateway({ GATEWAY_CHANNELS: undefined, GATEWAY_CHANNELS_FILE: undefined });
});

afterAll(async () => {
  for (const gateway of gateways) await gateway.close();
  await new Promise((resolve) => analytics?.close(resolve));
});

describe('request signatures', () => {
  const path = `/v1/accounts/${walletAccount}`;

  beforeAll(async () => {
    expect((await command('POST', '/v1/accounts', { accountId: walletAccount, ownerId: 'alice', kind: 'customer_wallet', currency: 'EUR' })).status).toBe(202);
    known.set(`/accounts/${walletAccount}`, { accountId: walletAccount });
  });

  it('accepts a signed request', async () => {
    expect((await call('GET', path)).status).toBe(200);
  });

  it('leaves health, metrics and the docs open', async () => {
    for (const open of ['/health/live', '/metrics', '/docs', '/docs/openapi.json']) {
      expect({ open, status: (await fetch(`${baseUrl}${open}`)).status }).toEqual({ open, status: 200 });
    }
  });

  it('refuses a request without a signature (401 missing-signature), with the security headers', async () => {
    const answer = await call('GET', path, { credentials: null });
    expect(problemOf(answer)).toEqual({ status: 401, type: 'missing-signature' });
    expect(answer.contentType).toContain('application/problem+json');
    expect(Object.fromEntries(['strict-transport-security', 'x-content-type-options', 'x-frame-options', 'cache-control'].map((name) => [name, answer.headers.get(name)]))).toEqual({
      'strict-transport-security': 'max-age=31536000; includeSubDomains', 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'cache-control': 'no-store',
    });
    const partial = await call('GET', path, { headers: { 'x-clearline-signature': '' } });
    expect(problemOf(partial)).toEqual({ status: 401, type: 'missing-signature' });
  });

  it.each<[string, () => Promise<Answer>]>([
    ['the body', () => call('POST', `${path}/freeze`, { body: {}, signed: { body: '{"x":1}' }, headers: { 'idempotency-key': randomUUID() } })],
    ['the path', () => call('GET', path, { signed: { pathWithQuery: `/v1/accounts/${walletAccount}x` } })],
    ['the query', () => call('GET', `${path}/history?limit=5`, { signed: { pathWithQuery: `${path}/history?limit=500` } })],
    ['the method', () => call('GET', path, { signed: { method: 'DELETE' } })],
    ['the timestamp header', () => call('GET', path, { headers: { 'x-clearline-timestamp': String(Math.floor(Date.now() / 1000) - 1) } })],
    ['the nonce header', () => call('GET', path, { headers: { 'x-clearline-nonce': freshNonce() } })],
    ['the key (signed with another secret)', () => call('GET', path, { credentials: { keyId: wallet.keyId, secret: acquirer.secret } })],
    ['the signature (upper-case hex)', () => call('GET', path, { headers: { 'x-clearline-signature': 'A'.repeat(64) } })],
  ])('refuses a request whose %s differs from what was signed (401 bad-signature)', async (_label, send) => {
    const answer = await send();
    expect(problemOf(answer)).toEqual({ status: 401, type: 'bad-signature' });
    expect(answer.text).not.toContain(wallet.secret);
  });

  it.each([['301 s old', -301], ['301 s ahead', 301], ['not a number', Number.NaN]])('refuses a timestamp %s (401 stale-timestamp)', async (_label, offsetSeconds) => {
    const answer = await call('GET', path, { signed: { timestampSeconds: Math.floor(Date.now() / 1000) + offsetSeconds } });
    expect(problemOf(answer)).toEqual({ status: 401, type: 'stale-timestamp' });
  });

  it('accepts a timestamp within the tolerance (299 s old)', async () => {
    expect((await call('GET', path, { signed: { timestampSeconds: Math.floor(Date.now() / 1000) - 299 } })).status).toBe(200);
  });

  it('refuses the same signed request sent twice (401 replayed-request), a GET as much as a command', async () => {
    const signed = { nonce: freshNonce(), timestampSeconds: Math.floor(Date.now() / 1000) };
    expect((await call('GET', path, { signed })).status).toBe(200);
    expect(problemOf(await call('GET', path, { signed }))).toEqual({ status: 401, type: 'replayed-request' });

    const headers = { 'idempotency-key': randomUUID() };
    const commandSigned = { nonce: freshNonce(), timestampSeconds: Math.floor(Date.now() / 1000) };
    expect((await call('POST', `${path}/freeze`, { headers, signed: commandSigned })).status).toBe(202);
    expect(problemOf(await call('POST', `${path}/freeze`, { headers, signed: commandSigned }))).toEqual({ status: 401, type: 'replayed-request' });
    // Re-signed (a new nonce), the retry is welcome and replays the first answer.
    const retry = await call('POST', `${path}/freeze`, { headers });
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
  });

  it('refuses an unknown key id (401 unknown-key)', async () => {
    const answer = await call('GET', path, { credentials: { keyId: 'nobody-1', secret: wallet.secret } });
    expect(problemOf(answer)).toEqual({ status: 401, type: 'unknown-key' });
  });
});

describe('configured keys, encrypted, and their rotation', () => {
  const encryptionKey = randomBytes(32);
  const oldKey = { keyId: `pb-old-${run}`, secret: randomBytes(32).toString('base64url') };
  const newKey = { keyId: `pb-new-${run}`, secret: randomBytes(32).toString('base64url') };
  const throttled = { keyId: `slow-${run}`, secret: randomBytes(32).toString('base64url') };

  async function configuredGateway(partnerKeys: ChannelCredentials[]): Promise<string> {
    const { encryptChannelSecret } = await import('./channel-keys.js');
    const entry = (keys: ChannelCredentials[]) => keys.map(({ keyId, secret }) => ({ keyId, secret: encryptChannelSecret(secret, keyId, encryptionKey) }));
    const clients = {
      partner_bank: { keys: entry(partnerKeys) },
      [`slow_${run}`]: { rateLimit: { requestsPerSecond: 2, burst: 3 }, keys: entry([throttled]) },
    };
    return startGateway({ GATEWAY_CHANNELS: JSON.stringify({ clients }), GATEWAY_CHANNEL_SECRETS_KEY: encryptionKey.toString('base64') });
  }

  it('verifies the old and the new key during a rotation, and only the new one once the old is removed', async () => {
    const rotating = await configuredGateway([oldKey, newKey]);
    const path = `/v1/payments/${randomUUID()}`;
    // Both keys are the partner bank's: a 404 for a payment it does not own, not a 401.
    expect(problemOf(await signedCall(rotating, 'GET', path, { credentials: oldKey }))).toEqual({ status: 404, type: 'payment-not-found' });
    expect(problemOf(await signedCall(rotating, 'GET', path, { credentials: newKey }))).toEqual({ status: 404, type: 'payment-not-found' });
    // The development keys are not trusted once keys are configured.
    expect(problemOf(await signedCall(rotating, 'GET', path, { credentials: wallet }))).toEqual({ status: 401, type: 'unknown-key' });

    const rotated = await configuredGateway([newKey]);
    expect(problemOf(await signedCall(rotated, 'GET', path, { credentials: oldKey }))).toEqual({ status: 401, type: 'unknown-key' });
    expect(problemOf(await signedCall(rotated, 'GET', path, { credentials: newKey }))).toEqual({ status: 404, type: 'payment-not-found' });
  });

  it('refuses a configuration whose secret is in plain text, or three keys for one client', async () => {
    const { loadChannelKeyring, encryptChannelSecret } = await import('./channel-keys.js');
    const key = encryptionKey.toString('base64');
    const plain = { clients: { mobile: { keys: [oldKey] } } };
    expect(() => loadChannelKeyring({ GATEWAY_CHANNELS: JSON.stringify(plain), GATEWAY_CHANNEL_SECRETS_KEY: key })).toThrow(/must be encrypted/);
    const three = { clients: { mobile: { keys: [1, 2, 3].map((n) => ({ keyId: `m-${n}`, secret: encryptChannelSecret(oldKey.secret, `m-${n}`, encryptionKey) })) } } };
    expect(() => loadChannelKeyring({ GATEWAY_CHANNELS: JSON.stringify(three), GATEWAY_CHANNEL_SECRETS_KEY: key })).toThrow(/1 or 2 active keys/);
    // A secret moved to another key id does not decrypt (the key id is authenticated with it), and no message quotes it.
    const moved = { clients: { mobile: { keys: [{ keyId: 'm-9', secret: encryptChannelSecret(oldKey.secret, 'm-1', encryptionKey) }] } } };
    expect(() => loadChannelKeyring({ GATEWAY_CHANNELS: JSON.stringify(moved), GATEWAY_CHANNEL_SECRETS_KEY: key })).toThrow(/does not decrypt/);
    expect(() => loadChannelKeyring({ NODE_ENV: 'production' })).toThrow(/NODE_ENV=production needs channel keys/);
    const published = { clients: { e_wallet: { keys: [{ keyId: 'prod-1', secret: encryptChannelSecret(wallet.secret, 'prod-1', encryptionKey) }] } } };
    expect(() => loadChannelKeyring({ NODE_ENV: 'production', GATEWAY_CHANNELS: JSON.stringify(published), GATEWAY_CHANNEL_SECRETS_KEY: key })).toThrow(/published development secret/);
  });

  it('limits a client to its rate: 429 problem with Retry-After, then back in once the bucket refills', async () => {
    const gateway = await configuredGateway([newKey]);
    const path = `/v1/payments/${randomUUID()}`;
    const statuses = [];
    for (let index = 0; index < 5; index += 1) statuses.push((await signedCall(gateway, 'GET', path, { credentials: throttled })).status);
    expect(statuses.slice(0, 3)).toEqual([404, 404, 404]);
    const limited = await signedCall(gateway, 'GET', path, { credentials: throttled });
    expect(problemOf(limited)).toEqual({ status: 429, type: 'rate-limited' });
    expect(limited.contentType).toContain('application/problem+json');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Another client is not slowed down by it.
    expect((await signedCall(gateway, 'GET', path, { credentials: newKey })).status).toBe(404);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await signedCall(gateway, 'GET', path, { credentials: throttled })).status).toBe(404);
  });
});

describe('object-level authorization', () => {
  let paymentId: string;
  let walletCorrelationId: string;

  beforeAll(async () => {
    walletCorrelationId = `sec-${randomUUID()}`;
    expect((await command('POST', '/v1/accounts', { accountId: acquirerAccount, ownerId: 'acq', kind: 'merchant', currency: 'EUR' }, acquirer)).status).toBe(202);
    const created = await command('POST', '/v1/payments', payment(walletAccount), wallet, { 'x-correlation-id': walletCorrelationId });
    expect(created.status).toBe(202);
    paymentId = created.body.paymentId;
    known.set(`/payments/${paymentId}`, { paymentId, status: 'requested' });
  });

  it("lets the owner read its payment and account", async () => {
    expect(await call('GET', `/v1/payments/${paymentId}`)).toMatchObject({ status: 200, body: { paymentId } });
    expect((await call('GET', `/v1/accounts/${walletAccount}/balance`)).status).toBe(404);
    expect(asked).toContain(`/accounts/${walletAccount}/balance`);
  });

  it("answers another channel's payment exactly like a missing one (404), and never asks the read model", async () => {
    const before = asked.length;
    const theirs = await call('GET', `/v1/payments/${paymentId}`, { credentials: acquirer });
    const missingId = randomUUID();
    const missing = await call('GET', `/v1/payments/${missingId}`, { credentials: acquirer });
    expect(problemOf(theirs)).toEqual({ status: 404, type: 'payment-not-found' });
    expect({ ...theirs.body, detail: undefined, instance: undefined }).toEqual({ ...missing.body, detail: undefined, instance: undefined });
    expect(theirs.body.detail).toBe(missing.body.detail.replace(missingId, paymentId));
    expect(asked.length).toBe(before);
  });

  it.each<[string, string, string, unknown]>([
    ['capture', 'POST', 'payments/:payment/capture', undefined],
    ['void', 'POST', 'payments/:payment/void', undefined],
    ['refund', 'POST', 'payments/:payment/refunds', { amount: { amountMinor: '1', currency: 'EUR' } }],
    ['review', 'POST', 'payments/:payment/review', { decision: 'approve' }],
    ['read an account', 'GET', 'accounts/:account', undefined],
    ['read a balance', 'GET', 'accounts/:account/balance', undefined],
    ['read a history', 'GET', 'accounts/:account/history', undefined],
    ['modify', 'PATCH', 'accounts/:account', { metadata: { stolen: 'yes' } }],
    ['freeze', 'POST', 'accounts/:account/freeze', undefined],
    ['close', 'POST', 'accounts/:account/close', undefined],
  ])("refuses to %s another channel's object with a 404", async (_label, method, template, body) => {
    const path = `/v1/${template.replace(':payment', paymentId).replace(':account', walletAccount)}`;
    const answer = method === 'GET' ? await call(method, path, { credentials: acquirer }) : await command(method, path, body, acquirer);
    expect(problemOf(answer)).toEqual({ status: 404, type: template.startsWith('payments') ? 'payment-not-found' : 'account-not-found' });
  });

  it("refuses to pay or transfer from another channel's account (422), or to take its account id (409)", async () => {
    expect(problemOf(await command('POST', '/v1/payments', payment(walletAccount), acquirer))).toEqual({ status: 422, type: 'payer-account-not-owned' });
    const transfer = { debitAccountId: walletAccount, creditAccountId: acquirerAccount, amount: { amountMinor: '1', currency: 'EUR' } };
    expect(problemOf(await command('POST', '/v1/transfers', transfer, acquirer))).toEqual({ status: 422, type: 'debit-account-not-owned' });
    expect(problemOf(await command('POST', '/v1/accounts', { accountId: walletAccount, ownerId: 'x', kind: 'merchant', currency: 'EUR' }, acquirer))).toEqual({ status: 409, type: 'account-id-taken' });
    // An account the read model knows but no channel opened here (sent to Kafka directly) is taken too.
    known.set(`/accounts/sec-${run}-direct`, { accountId: `sec-${run}-direct` });
    expect(problemOf(await command('POST', '/v1/accounts', { accountId: `sec-${run}-direct`, ownerId: 'x', kind: 'merchant', currency: 'EUR' }, acquirer))).toEqual({ status: 409, type: 'account-id-taken' });
  });

  it("keeps a channel's correlation ids its own", async () => {
    expect(problemOf(await call('GET', `/v1/transfers?correlationId=${walletCorrelationId}`, { credentials: acquirer }))).toEqual({ status: 404, type: 'correlation-not-found' });
    expect((await call('GET', `/v1/transfers?correlationId=${walletCorrelationId}`)).status).toBe(404);
    expect(asked).toContain('/transfers');
    const reused = await command('POST', `/v1/accounts/${acquirerAccount}/freeze`, undefined, acquirer, { 'x-correlation-id': walletCorrelationId });
    expect(problemOf(reused)).toEqual({ status: 409, type: 'correlation-id-in-use' });
  });

  it('keeps Idempotency-Keys per client: the same key from two channels is two requests', async () => {
    const key = `shared-${run}`;
    const mine = await call('POST', `/v1/accounts/${walletAccount}/freeze`, { headers: { 'idempotency-key': key } });
    const theirs = await call('POST', `/v1/accounts/${acquirerAccount}/freeze`, { credentials: acquirer, headers: { 'idempotency-key': key } });
    expect([mine.status, theirs.status]).toEqual([202, 202]);
    expect(theirs.body.accountId).toBe(acquirerAccount);
    expect(theirs.headers.get('idempotent-replayed')).toBeNull();
  });

  it('lets an analyst read every payment and account, and change nothing (403)', async () => {
    expect(await call('GET', `/v1/payments/${paymentId}`, { credentials: analyst })).toMatchObject({ status: 200, body: { paymentId } });
    expect((await call('GET', `/v1/accounts/${walletAccount}`, { credentials: analyst })).status).toBe(200);
    expect((await call('GET', `/v1/transfers?correlationId=${walletCorrelationId}`, { credentials: analyst })).status).toBe(404);
    expect(asked[asked.length - 1]).toBe('/transfers');
    expect(problemOf(await command('POST', `/v1/payments/${paymentId}/void`, undefined, analyst))).toEqual({ status: 403, type: 'read-only-client' });
    expect(problemOf(await command('PATCH', `/v1/accounts/${walletAccount}`, { metadata: { a: 'b' } }, analyst))).toEqual({ status: 403, type: 'read-only-client' });
    expect(problemOf(await command('POST', '/v1/accounts', { accountId: `sec-${run}-analyst`, ownerId: 'x', kind: 'merchant', currency: 'EUR' }, analyst))).toEqual({ status: 403, type: 'read-only-client' });
  });
});

describe('webhook targets (server-side request forgery)', () => {
  it.each([
    'http://127.0.0.1:5432/', 'http://169.254.169.254/latest/meta-data/iam/', 'http://localhost:6379/', 'http://10.0.0.7/hook',
    'http://[::1]:9092/', 'http://[::ffff:127.0.0.1]:8080/', 'https://internal.localhost/hook',
  ])('refuses a subscription to %s (422 webhook-url-not-allowed), and stores none', async (url) => {
    const answer = await command('POST', '/v1/webhooks', { url, eventTypes: ['PaymentCaptured'] });
    expect(problemOf(answer)).toEqual({ status: 422, type: 'webhook-url-not-allowed' });
    expect(answer.body.detail).toMatch(/^Webhooks are sent to public internet addresses only: (address|host) /);
    const listed = await call('GET', '/v1/webhooks', { credentials: wallet });
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((item: { url: string }) => item.url)).not.toContain(url);
  });
});

describe('input bounds', () => {
  it('still refuses unknown fields on a signed request (400)', async () => {
    const answer = await command('POST', '/v1/accounts', { accountId: `sec-${run}-x`, ownerId: 'x', kind: 'merchant', currency: 'EUR', ownerChannel: 'card_acquiring' });
    expect(problemOf(answer)).toEqual({ status: 400, type: 'invalid-request' });
    expect(answer.body.detail).toContain('ownerChannel');
  });

  it('refuses a body over 64 KiB with a 413 problem', async () => {
    const answer = await command('PATCH', `/v1/accounts/${walletAccount}`, { metadata: { note: 'x'.repeat(70 * 1024) } });
    expect(problemOf(answer)).toEqual({ status: 413, type: 'payload-too-large' });
    expect(answer.contentType).toContain('application/problem+json');
  });

  it('serves the docs under a strict Content-Security-Policy', async () => {
    const response = await fetch(`${baseUrl}/docs`);
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  });
});
