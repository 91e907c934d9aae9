import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { canonicalJson } from '@clearline/contracts';
import { ConfigurationError, ProblemException, REDIS } from '@clearline/service-runtime';
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
 * How long a claim lives without its gateway (GATEWAY_IDEMPOTENCY_LEASE_SECONDS, default 60). A
 * running request renews its claim every third of that, so a slow one (a publish that retries for
 * over a minute) is never raced by a retry, least of all one with another body under the same key.
 * A gateway that dies mid-request (kill -9, a lost node) leaves its claim behind: retries get a 409
 * until it lapses, then run the request again. That is safe because every id a command carries
 * derives from the request (command-ids.ts), so the second run sends the very same command.
 */
export const DEFAULT_IN_PROGRESS_LEASE_SECONDS = 60;
const LEASE_SECONDS_LIMITS = { min: 3, max: 3_600 } as const;

/** GATEWAY_IDEMPOTENCY_LEASE_SECONDS, checked: a whole number of seconds in 3..3600. */
export function idempotencyLeaseSeconds(environment: NodeJS.ProcessEnv = process.env): number {
  const text = environment['GATEWAY_IDEMPOTENCY_LEASE_SECONDS'];
  if (text === undefined || text === '') return DEFAULT_IN_PROGRESS_LEASE_SECONDS;
  const seconds = Number(text);
  if (!/^[0-9]+$/.test(text) || seconds < LEASE_SECONDS_LIMITS.min || seconds > LEASE_SECONDS_LIMITS.max) {
    throw new ConfigurationError(`GATEWAY_IDEMPOTENCY_LEASE_SECONDS must be a whole number of seconds from ${LEASE_SECONDS_LIMITS.min} to ${LEASE_SECONDS_LIMITS.max}, got '${text}'`);
  }
  return seconds;
}
const ACCEPTABLE_KEY = /^[\x21-\x7e]{1,255}$/;

type IdempotencyRecord =
  // claimId: whose claim it is, so a request whose lease lapsed does not free a retry's claim.
  | { state: 'in_progress'; requestHash: string; claimId: string }
  | { state: 'completed'; requestHash: string; status: number; body: unknown };

/**
 * `Idempotency-Key` on every POST: the first response is kept for 24 hours in Redis and replayed to
 * retries (so a retry never creates a second payment); the same key with a different body is a 422;
 * a retry while the first request still runs is a 409 with Retry-After (the claim is renewed while it
 * runs and lapses GATEWAY_IDEMPOTENCY_LEASE_SECONDS after its gateway died). Failed requests keep nothing, so they can be
 * retried with the same key. Redis holds the records, so this holds across restarts and instances.
 *
 * A record holds a SHA-256 of the request and the first answer, never the request itself. A card
 * number is replaced by its keyed fingerprint before hashing and the CVV left out, so not even a hash
 * derived from them is kept (an unkeyed hash of a card number is reversible by enumeration).
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private readonly leaseSeconds = idempotencyLeaseSeconds();

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
    const claimed = await this.redis.set(recordKey, claim, 'EX', this.leaseSeconds, 'NX');
    if (claimed !== 'OK') return this.replay(recordKey, requestHash, response);

    // A failed renewal (Redis briefly away) is tried again at the next tick; the lease covers two misses.
    const renewal = setInterval(() => {
      this.redis.eval(RENEW_IF_UNCHANGED, 1, recordKey, claim, String(this.leaseSeconds)).catch(() => undefined);
    }, (this.leaseSeconds * 1_000) / 3);
    renewal.unref();
    try {
      const body = await lastValueFrom(next.handle(), { defaultValue: undefined });
      const completed: IdempotencyRecord = { state: 'completed', requestHash, status: response.statusCode, body };
      await this.redis.eval(COMPLETE_IF_OURS_OR_FREE, 1, recordKey, claim, JSON.stringify(completed), String(RETENTION_SECONDS));
      return body;
    } catch (error) {
      await this.redis.eval(DELETE_IF_UNCHANGED, 1, recordKey, claim);
      throw error;
    } finally {
      clearInterval(renewal);
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
        `If the gateway running it stopped, its claim lapses within ${this.leaseSeconds} s (Retry-After) and a retry runs the request again, with the same ids: it acts once.`,
      ].join(' '));
    }
    response.setHeader('idempotent-replayed', 'true');
    response.status(record.status);
    return record.body;
  }
}

/** Deletes KEYS[1] if it still holds ARGV[1]: a failed request frees its own claim, never a retry's. */
const DELETE_IF_UNCHANGED = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";
/** Gives KEYS[1] ARGV[2] more seconds if it still holds ARGV[1]: a running request keeps its own claim alive. */
const RENEW_IF_UNCHANGED = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('expire', KEYS[1], ARGV[2]) end return 0";
/**
 * Stores the answer ARGV[2] (for ARGV[3] seconds) if KEYS[1] still holds our claim ARGV[1] or nothing
 * (it lapsed and no one took it): never over a claim or an answer that is not ours.
 */
const COMPLETE_IF_OURS_OR_FREE = "local current = redis.call('get', KEYS[1]) if current == ARGV[1] or current == false then return redis.call('set', KEYS[1], ARGV[2], 'EX', ARGV[3]) end return 0";

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
