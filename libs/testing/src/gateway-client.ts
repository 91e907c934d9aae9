// A small HTTP client for the gateway's API, shared by `npm start`'s demo seeding and the
// end-to-end tests: JSON in and out, every request signed (docs/security.md), an Idempotency-Key on
// every POST, polling with a deadline.
import { DEVELOPMENT_CHANNEL_CREDENTIALS, signatureHeaders, type ChannelCredentials } from '@clearline/contracts';
import { randomBytes, randomUUID } from 'node:crypto';

export interface GatewayResponse {
  status: number;
  headers: Headers;
  // Answers are whatever JSON the API returns; tests assert on their shape.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export interface GatewayClient {
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<GatewayResponse>;
  post(path: string, body: unknown, idempotencyKey?: string, headers?: Record<string, string>): Promise<GatewayResponse>;
  get(path: string): Promise<GatewayResponse>;
  /** Polls GET path until `done(response)` holds; returns the last response. */
  waitFor(path: string, done: (response: GatewayResponse) => boolean, timeoutMs?: number): Promise<GatewayResponse>;
}

/**
 * The signature headers for one request to `url` (path and query taken from the URL as it will be
 * sent), with the current time and a fresh nonce: a retry must be signed again.
 */
export function signedHeaders(credentials: ChannelCredentials, method: string, url: URL, body?: string): Record<string, string> {
  return signatureHeaders(credentials, {
    method,
    pathWithQuery: `${url.pathname}${url.search}`,
    timestampSeconds: Math.floor(Date.now() / 1000),
    nonce: randomBytes(18).toString('base64url'),
    ...(body === undefined ? {} : { body }),
  });
}

/** Signs as the e_wallet channel's public development key unless given other credentials. */
export function gatewayClient(baseUrl: string, credentials: ChannelCredentials = DEVELOPMENT_CHANNEL_CREDENTIALS.e_wallet): GatewayClient {
  async function request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<GatewayResponse> {
    const url = new URL(path, baseUrl);
    const text = body === undefined ? undefined : JSON.stringify(body);
    const response = await fetch(url, {
      method,
      headers: { 'content-type': 'application/json', ...signedHeaders(credentials, method, url, text), ...headers },
      body: text,
      signal: AbortSignal.timeout(10_000),
    });
    const answer = await response.text();
    return { status: response.status, headers: response.headers, body: answer ? JSON.parse(answer) : undefined };
  }
  return {
    request,
    post: (path, body, idempotencyKey = randomUUID(), headers = {}) => request('POST', path, body, { 'idempotency-key': idempotencyKey, ...headers }),
    get: (path) => request('GET', path),
    async waitFor(path, done, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let last: GatewayResponse | undefined;
      while (Date.now() < deadline) {
        last = await request('GET', path);
        if (done(last)) return last;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      throw new Error(`timed out after ${timeoutMs} ms waiting on ${path}; last answer ${last?.status} ${JSON.stringify(last?.body)}`);
    },
  };
}

/** Demo ledger: a funding account, a funded customer wallet and a merchant, all in EUR. Idempotent. */
export const DEMO = {
  fundingAccountId: 'demo-funding-eur',
  payerAccountId: 'demo-wallet-alice',
  merchantAccountId: 'demo-merchant-acme',
  merchantId: 'acme',
  fundingTransferId: '6f1c2a52-8d1e-4c1b-9a57-2d3f4e5a6b7c',
  initialBalanceMinor: '100000',
};

export async function seedDemo(client: GatewayClient): Promise<void> {
  const accounts = [
    { accountId: DEMO.fundingAccountId, ownerId: 'clearline', kind: 'funding', currency: 'EUR', allowNegativeBalance: true },
    { accountId: DEMO.payerAccountId, ownerId: 'alice', kind: 'customer_wallet', currency: 'EUR' },
    { accountId: DEMO.merchantAccountId, ownerId: DEMO.merchantId, kind: 'merchant', currency: 'EUR' },
  ];
  for (const account of accounts) {
    const response = await client.post('/v1/accounts', account, `demo-seed:account:${account.accountId}`);
    if (response.status !== 202) throw new Error(`opening ${account.accountId} failed: ${response.status} ${JSON.stringify(response.body)}`);
  }
  for (const account of accounts) await client.waitFor(`/v1/accounts/${account.accountId}`, (response) => response.status === 200);
  const funding = await client.post('/v1/transfers', {
    transferId: DEMO.fundingTransferId,
    debitAccountId: DEMO.fundingAccountId,
    creditAccountId: DEMO.payerAccountId,
    amount: { amountMinor: DEMO.initialBalanceMinor, currency: 'EUR' },
  }, `demo-seed:transfer:${DEMO.fundingTransferId}`);
  if (funding.status !== 202) throw new Error(`funding the demo wallet failed: ${funding.status} ${JSON.stringify(funding.body)}`);
  await client.waitFor(`/v1/accounts/${DEMO.fundingAccountId}`, (response) => response.status === 200 && response.body.balances.postedMinor !== '0');
}
