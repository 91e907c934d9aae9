import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { NONCE_PATTERN, requestSignature, SignatureHeaders } from '@clearline/contracts';
import { LOGGER, ProblemException, REDIS, type Logger } from '@clearline/service-runtime';
import type { NextFunction, Request, Response } from 'express';
import type { Redis } from 'ioredis';
import { timingSafeEqual } from 'node:crypto';
import { isOpenRequest, setAuthenticatedClient, type AuthenticatedClient } from './authenticated-client.js';
import { CHANNEL_KEYRING } from './gateway.tokens.js';
import type { ChannelKeyring } from './channel-keys.js';

/** How far a request's timestamp may be from the gateway's clock, either way. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;
/** A nonce is remembered as long as a request carrying it could still be on time (both sides of the tolerance). */
const NONCE_RETENTION_SECONDS = 2 * SIGNATURE_TOLERANCE_SECONDS;
const TIMESTAMP = /^[0-9]{1,12}$/;
const SIGNATURE = /^[0-9a-f]{64}$/;

/** The body as received, kept by the JSON parser (`rawBody: true`); absent for a request without a JSON body. */
type RequestWithRawBody = Request & { rawBody?: Buffer };

/** What a signature covers, from an Express request or a WebSocket upgrade alike. */
export interface SignedRequest {
  method: string;
  /** As received: the path and query string. */
  pathWithQuery: string;
  /** For the log lines of refusals. */
  path: string;
  header(name: string): string | undefined;
  rawBody?: Buffer | undefined;
}

function unauthenticated(slug: string, title: string, detail: string): ProblemException {
  return new ProblemException(401, slug, title, detail);
}

/**
 * Every request outside health, metrics and /docs carries an HMAC-SHA256 signature by a channel's or
 * analyst's key over its method, path and query, timestamp, nonce and body digest (docs/security.md).
 * Checked in this order, each with its own problem type: all four headers present, timestamp within
 * 5 minutes, key known, signature right (constant-time), nonce never seen before for that key.
 * No answer quotes a secret or the expected signature.
 */
@Injectable()
export class RequestAuthenticationMiddleware implements NestMiddleware {
  constructor(
    @Inject(CHANNEL_KEYRING) private readonly keyring: ChannelKeyring,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async use(request: Request, _response: Response, next: NextFunction): Promise<void> {
    if (isOpenRequest(request)) return next();
    const signed: SignedRequest = {
      method: request.method, pathWithQuery: request.originalUrl, path: request.path, header: (name) => request.header(name), rawBody: (request as RequestWithRawBody).rawBody,
    };
    setAuthenticatedClient(request, await this.verify(signed));
    next();
  }

  /** The signing client, or a ProblemException (401, or 503 without the nonce store). Also for WebSocket upgrades. */
  async verify(request: SignedRequest): Promise<AuthenticatedClient> {
    const keyId = request.header(SignatureHeaders.keyId);
    const timestamp = request.header(SignatureHeaders.timestamp);
    const nonce = request.header(SignatureHeaders.nonce);
    const signature = request.header(SignatureHeaders.signature);
    if (!keyId || !timestamp || !nonce || !signature) {
      throw unauthenticated('missing-signature', 'Signature required', `Sign the request: ${Object.values(SignatureHeaders).join(', ')} (docs/security.md).`);
    }
    const timestampSeconds = TIMESTAMP.test(timestamp) ? Number(timestamp) : Number.NaN;
    if (!(Math.abs(Date.now() / 1000 - timestampSeconds) <= SIGNATURE_TOLERANCE_SECONDS)) {
      throw unauthenticated('stale-timestamp', 'Stale timestamp', `The timestamp must be the current Unix time in seconds, within ${SIGNATURE_TOLERANCE_SECONDS} seconds of the gateway's clock.`);
    }
    const key = this.keyring.keyById(keyId);
    if (key === undefined) throw unauthenticated('unknown-key', 'Unknown key', 'The key id is not an active key of any client.');
    const expected = requestSignature(key.secret, {
      method: request.method,
      pathWithQuery: request.pathWithQuery,
      timestampSeconds,
      nonce,
      body: request.rawBody,
    });
    if (!NONCE_PATTERN.test(nonce) || !SIGNATURE.test(signature) || !timingSafeEqual(Buffer.from(signature), Buffer.from(expected))) {
      this.logger.info({ keyId, client: key.client, method: request.method, path: request.path }, 'request refused: bad signature');
      throw unauthenticated('bad-signature', 'Bad signature', 'The signature does not match the request (method, path and query, timestamp, nonce and body).');
    }
    if (!(await this.rememberNonce(keyId, nonce))) {
      this.logger.warn({ keyId, client: key.client, method: request.method, path: request.path }, 'request refused: replayed');
      throw unauthenticated('replayed-request', 'Replayed request', 'This nonce was already used with this key; sign every request, retries included, with a new nonce.');
    }
    return { client: key.client, role: key.role, keyId };
  }

  /** True the first time a nonce is seen for the key (across gateway instances: Redis decides). */
  private async rememberNonce(keyId: string, nonce: string): Promise<boolean> {
    try {
      return (await this.redis.set(`gateway:nonce:${keyId}:${nonce}`, '1', 'EX', NONCE_RETENTION_SECONDS, 'NX')) === 'OK';
    } catch {
      // Without the nonce store a replay cannot be told apart: refuse rather than accept blind.
      throw new ProblemException(503, 'security-store-unavailable', 'Try again shortly', 'The gateway could not check the request against replays; retry with a new nonce.');
    }
  }
}
