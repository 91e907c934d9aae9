import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { ProblemException, REDIS } from '@clearline/service-runtime';
import type { NextFunction, Request, Response } from 'express';
import type { Redis } from 'ioredis';
import { isOpenRequest, authenticatedClientOf } from './authenticated-client.js';
import { CHANNEL_KEYRING } from './gateway.tokens.js';
import type { ChannelKeyring, RateLimit } from './channel-keys.js';

/**
 * A token bucket per client in Redis, taken in one Lua script so that concurrent requests on any
 * number of gateway instances never both take the last token. Redis's own clock (TIME) refills it,
 * so instances whose clocks differ still agree. Returns {allowed 0|1, retry after ms, tokens left}.
 */
const TAKE_TOKEN = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local allowed = 0
local retryMs = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retryMs = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {allowed, retryMs, math.floor(tokens)}
`;

/** Rate limits per client (channel or analyst), after authentication: 429 problem+json with Retry-After when the bucket is empty. */
@Injectable()
export class RateLimitMiddleware implements NestMiddleware {
  constructor(
    @Inject(CHANNEL_KEYRING) private readonly keyring: ChannelKeyring,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  async use(request: Request, response: Response, next: NextFunction): Promise<void> {
    if (isOpenRequest(request)) return next();
    const { client } = authenticatedClientOf(request);
    const limit = this.keyring.rateLimitOf(client);
    const [allowed, retryMs, remaining] = await this.take(client, limit);
    response.setHeader('ratelimit-limit', String(limit.burst));
    response.setHeader('ratelimit-remaining', String(remaining));
    if (allowed !== 1) {
      const retryAfterSeconds = Math.max(1, Math.ceil(retryMs / 1000));
      response.setHeader('retry-after', String(retryAfterSeconds));
      throw new ProblemException(429, 'rate-limited', 'Too many requests', `This client may send ${limit.requestsPerSecond} requests per second (bursts of ${limit.burst}); retry after ${retryAfterSeconds} s.`, { retryAfterSeconds });
    }
    next();
  }

  private async take(client: string, limit: RateLimit): Promise<[number, number, number]> {
    try {
      return (await this.redis.eval(TAKE_TOKEN, 1, `gateway:rate:${client}`, String(limit.requestsPerSecond), String(limit.burst))) as [number, number, number];
    } catch {
      throw new ProblemException(503, 'security-store-unavailable', 'Try again shortly', 'The gateway could not check the rate limit; retry shortly.');
    }
  }
}
