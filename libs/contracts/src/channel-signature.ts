// The HTTP signature every channel and analyst puts on a gateway request (docs/security.md): one
// function builds the canonical string, so the gateway that verifies and every client that signs (the
// test client, tools/signed-curl.mjs, the end-to-end tests) cannot disagree on a byte of it.
import { createHash, createHmac } from 'node:crypto';

export const SIGNATURE_SCHEME = 'CLEARLINE-HMAC-SHA256';
export const SignatureHeaders = {
  keyId: 'x-clearline-key-id',
  timestamp: 'x-clearline-timestamp',
  nonce: 'x-clearline-nonce',
  signature: 'x-clearline-signature',
} as const;

/** A nonce is 16-64 characters of base64url: enough entropy to be unique per key within the tolerance window. */
export const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;

export interface SignableRequest {
  method: string;
  /** The request target exactly as sent: path and query string (`/v1/accounts/a-1/balance?asOf=...`). */
  pathWithQuery: string;
  /** Unix time in whole seconds. */
  timestampSeconds: number;
  nonce: string;
  /** The body's bytes as sent; empty (or undefined) for none. */
  body?: Uint8Array | string;
}

export function bodyDigestHex(body: Uint8Array | string | undefined): string {
  return createHash('sha256').update(body ?? '').digest('hex');
}

/** Six lines joined by `\n`, no trailing newline: scheme, METHOD, path?query, timestamp, nonce, hex SHA-256 of the body. */
export function canonicalRequest(request: SignableRequest): string {
  return [SIGNATURE_SCHEME, request.method.toUpperCase(), request.pathWithQuery, String(request.timestampSeconds), request.nonce, bodyDigestHex(request.body)].join('\n');
}

/** Lower-case hex HMAC-SHA256 of the canonical request under the key's secret (its UTF-8 bytes). */
export function requestSignature(secret: string | Uint8Array, request: SignableRequest): string {
  return createHmac('sha256', secret).update(canonicalRequest(request)).digest('hex');
}

export interface ChannelCredentials {
  keyId: string;
  secret: string;
}

/** The four headers of a signed request. */
export function signatureHeaders(credentials: ChannelCredentials, request: SignableRequest): Record<string, string> {
  return {
    [SignatureHeaders.keyId]: credentials.keyId,
    [SignatureHeaders.timestamp]: String(request.timestampSeconds),
    [SignatureHeaders.nonce]: request.nonce,
    [SignatureHeaders.signature]: requestSignature(credentials.secret, request),
  };
}

/**
 * Public development credentials: what the gateway trusts when no channel keys are configured, and
 * what local tools and tests sign with. Published here on purpose; the gateway refuses to start with
 * them when NODE_ENV=production.
 */
export const DEVELOPMENT_CHANNEL_CREDENTIALS = {
  card_acquiring: { keyId: 'dev-card_acquiring', secret: 'clearline-dev-secret-card_acquiring-not-for-production' },
  e_wallet: { keyId: 'dev-e_wallet', secret: 'clearline-dev-secret-e_wallet-not-for-production' },
  mobile: { keyId: 'dev-mobile', secret: 'clearline-dev-secret-mobile-not-for-production' },
  partner_bank: { keyId: 'dev-partner_bank', secret: 'clearline-dev-secret-partner_bank-not-for-production' },
  analyst: { keyId: 'dev-analyst', secret: 'clearline-dev-secret-analyst-not-for-production' },
} as const satisfies Record<string, ChannelCredentials>;
