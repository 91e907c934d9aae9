// Signed HTTP calls to a gateway under test: the headers come from the same signatureHeaders the
// gateway verifies with (libs/contracts), so the tests sign exactly as a channel does.
import { DEVELOPMENT_CHANNEL_CREDENTIALS, signatureHeaders, type ChannelCredentials, type SignableRequest } from '@clearline/contracts';
import { randomBytes } from 'node:crypto';

export interface Answer {
  status: number;
  contentType: string;
  headers: Headers;
  text: string;
  // The API's JSON, asserted on by shape.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** Sign as this client (default: the e_wallet channel's development key); null sends no signature. */
  credentials?: ChannelCredentials | null;
  /** Change what is signed (to prove tampering is caught): the request sent stays as given. */
  signed?: Partial<SignableRequest>;
}

export const DEFAULT_TEST_CREDENTIALS = DEVELOPMENT_CHANNEL_CREDENTIALS.e_wallet;

export function freshNonce(): string {
  return randomBytes(18).toString('base64url');
}

export async function signedCall(baseUrl: string, method: string, path: string, options: CallOptions = {}): Promise<Answer> {
  const url = new URL(path, baseUrl);
  const text = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  const credentials = options.credentials === undefined ? DEFAULT_TEST_CREDENTIALS : options.credentials;
  const signature = credentials === null ? {} : signatureHeaders(credentials, {
    method,
    pathWithQuery: `${url.pathname}${url.search}`,
    timestampSeconds: Math.floor(Date.now() / 1000),
    nonce: freshNonce(),
    ...(text === undefined ? {} : { body: text }),
    ...options.signed,
  });
  const response = await fetch(url, { method, headers: { 'content-type': 'application/json', ...signature, ...options.headers }, ...(text === undefined ? {} : { body: text }) });
  const answerText = await response.text();
  const contentType = response.headers.get('content-type') ?? '';
  return { status: response.status, contentType, headers: response.headers, text: answerText, body: answerText && contentType.includes('json') ? JSON.parse(answerText) : answerText };
}
