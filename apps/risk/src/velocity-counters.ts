import { Inject, Injectable } from '@nestjs/common';
import { REDIS } from '@clearline/service-runtime';
import type { Redis } from 'ioredis';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

export interface PayerVelocity {
  lastMinute: number;
  lastHour: number;
}

/**
 * Sliding-window counts in Redis: one sorted set per payer, member = payment id, score = the time
 * the payment was requested. Adding the same payment twice changes nothing, so a redelivered
 * message cannot inflate a count; entries older than a day are trimmed and the key expires.
 */
@Injectable()
export class VelocityCounters {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async recordPayerPayment(payerAccountId: string, paymentId: string, requestedAtMs: number): Promise<PayerVelocity> {
    const key = `risk:velocity:payer:${payerAccountId}`;
    const results = await this.redis
      .multi()
      .zadd(key, requestedAtMs, paymentId)
      .zremrangebyscore(key, '-inf', requestedAtMs - DAY_MS)
      .zcount(key, requestedAtMs - MINUTE_MS, requestedAtMs)
      .zcount(key, requestedAtMs - HOUR_MS, requestedAtMs)
      .pexpire(key, DAY_MS + HOUR_MS)
      .exec();
    if (!results) throw new Error('Redis discarded the velocity transaction');
    const failure = results.find(([error]) => error);
    if (failure) throw failure[0]!;
    return { lastMinute: Number(results[2]![1]), lastHour: Number(results[3]![1]) };
  }
}
