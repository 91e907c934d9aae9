import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { canonicalJson } from '@clearline/contracts';
import { ProblemException, REDIS } from '@clearline/service-runtime';
import type { Request, Response } from 'express';
import type { Redis } from 'ioredis';
import { createHash, randomUUID } from 'node:crypto';
import { from, lastValueFrom, type Observable } from 'rxjs';
import { authenticatedClientOf } from './authenticated-client.js';
import { CardTokenizer } from './card-tokenizer.js';
import type { IdempotentRequest } from './command-ids.js';
import { withoutCardSecrets } from './payment-sources.js';

export const IDEMPOTENCY_HEADER = 'idempotency-key';
const RETENTION_SECONDS = 24 * 60 * 60;
/**
 * How long a claim lives without an answer. A gateway that dies mid-request (kill -9, a lost node)
 * leaves its claim behind: retries get a 409 until it lapses, then run the request again. That is
 * safe because every id a command carries derives from the request (command-ids.ts), so the second
 * run sends the very same command. A request still running after this long is raced by its retry
 * the same way, with the same result.
 */
export const IN_PROGRESS_LEASE_SECONDS = 60;
const ACCEPTABLE_KEY = /^[\x21-\x7e]{1,255}$/;

type IdempotencyRecord =
  // claimId: whose claim it is, so a request whose lease lapsed does not free a retry's claim.
  | { state: 'in_progress'; requestHash: string; claimId: string }
  | { state: 'completed'; requestHash: string; status: number; body: unknown };

/**
 * `Idempotency-Key` on every POST: the first response is kept for 24 hours in Redis and replayed to
 * retries (so a retry never creates a second payment); the same key with a different body is a 422;
 * a retry while the first request still runs is a 409 with Retry-After (the claim lapses after
 * IN_PROGRESS_LEASE_SECONDS if its gateway died). Failed requests keep nothing, so they can be
 * retried with the same key. Redis holds the records, so this holds across restarts and instances.
 *
 * A record holds a SHA-256 of the request and the first answer, never the request itself. A card
 * number is replaced by its keyed fingerprint before hashing and the CVV left out, so not even a hash
 * derived from them is kept (an unkeyed hash of a card number is reversible by enumeration).
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly cards: CardTokenizer,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return from(this.handle(context, next));
  }

  private async handle(context: ExecutionContext, next: CallHandler): Promise<unknown> {
    const request = context.switchToHttp().getRequest<Request>();
    const response = context.switchToHttp().getResponse<Response>();
    const key = request.header(IDEMPOTENCY_HEADER);
    if (!key) throw new ProblemException(400, 'idempotency-key-missing', 'Idempotency-Key header required', 'Every POST needs an Idempotency-Key header (for example a uuid) so that a retry cannot act twice.');
    if (!ACCEPTABLE_KEY.test(key)) throw new ProblemException(400, 'idempotency-key-invalid', 'Invalid Idempotency-Key', 'The key must be 1-255 printable ASCII characters.');
    // Keys are per client: two channels may pick the same key without ever seeing each other's answer.
    const { client } = authenticatedClientOf(request);
    const recordKey = `gateway:idempotency:${client}:${request.method}:${request.path}:${key}`;
    const requestHash = hashRequest(request, (cardNumber) => this.cards.fingerprintOf(cardNumber));
    idempotentRequests.set(request, { client, key, requestHash });

    const claim = JSON.stringify({ state: 'in_progress', requestHash, claimId: randomUUID() } satisfies IdempotencyRecord);
    const claimed = await this.redis.set(recordKey, claim, 'EX', IN_PROGRESS_LEASE_SECONDS, 'NX');
    if (claimed !== 'OK') return this.replay(recordKey, requestHash, response);

    try {
      const body = await lastValueFrom(next.handle(), { defaultValue: undefined });
      const completed: IdempotencyRecord = { state: 'completed', requestHash, status: response.statusCode, body };
      await this.redis.set(recordKey, JSON.stringify(completed), 'EX', RETENTION_SECONDS);
      return body;
    } catch (error) {
      await this.redis.eval(DELETE_IF_UNCHANGED, 1, recordKey, claim);
      throw error;
    }
  }

  private async replay(recordKey: string, requestHash: string, response: Response): Promise<unknown> {
    const stored = await this.redis.get(recordKey);
    if (stored === null) throw new ProblemException(409, 'idempotency-key-in-flux', 'Retry the request', 'The first request with this key just finished without a result to replay; retry now.');
    const record = JSON.parse(stored) as IdempotencyRecord;
    if (record.requestHash !== requestHash) {
      throw new ProblemException(422, 'idempotency-key-reused', 'Idempotency-Key reused with a different request', 'This key was already used for a request with another body; use a new key for a new request.');
    }
    if (record.state === 'in_progress') {
      const leftMs = await this.redis.pttl(recordKey);
      response.setHeader('retry-after', String(Math.max(1, Math.ceil(leftMs / 1000))));
      throw new ProblemException(409, 'request-in-progress', 'A request with this Idempotency-Key is still in progress', [
        'Wait for the first request to finish, then retry with the same key to get its result.',
        `If the gateway running it stopped, its claim lapses within ${IN_PROGRESS_LEASE_SECONDS} s (Retry-After) and a retry runs the request again, with the same ids: it acts once.`,
      ].join(' '));
    }
    response.setHeader('idempotent-replayed', 'true');
    response.status(record.status);
    return record.body;
  }
}

/** Deletes KEYS[1] if it still holds ARGV[1]: a failed request frees its own claim, never a retry's. */
const DELETE_IF_UNCHANGED = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";

const idempotentRequests = new WeakMap<Request, IdempotentRequest>();

/** The client, key and request hash of a request this interceptor let through (what derived ids are made of). */
export function idempotentRequestOf(request: Request): IdempotentRequest {
  const identity = idempotentRequests.get(request);
  if (identity === undefined) throw new Error('unreachable: a command route ran without the idempotency interceptor');
  return identity;
}

function hashRequest(request: Request, fingerprintOf: (cardNumber: string) => string): string {
  const body = withoutCardSecrets(request.body ?? null, fingerprintOf);
  return createHash('sha256').update(request.method).update('\n').update(request.path).update('\n').update(canonicalJson(body)).digest('hex');
}
