import {
  DISTINCT_CARD_WINDOWS_MS, PAYER_HISTORY_LENGTH, summariseHistory, VELOCITY_AMOUNT_CAP_MINOR, VELOCITY_ENTITIES, VELOCITY_WINDOWS,
  velocityEntitiesOf, type DistinctCards, type EntityVelocity, type RiskFeatures, type RiskPayment, type VelocityEntity,
} from '@clearline/risk-domain';
import type { Redis } from 'ioredis';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** A redelivery within this time gets the first answer back; later ones are stopped by the risk stream. */
const SEEN_TTL_MS = 7 * DAY_MS;
/** Account first-seen, the payer's devices and amount history live this long after the last payment. */
const PROFILE_TTL_MS = 400 * DAY_MS;
const HISTORY_TTL_MS = 90 * DAY_MS;
/** Bounds on what one key may hold. */
const MAX_CARDS_PER_KEY = 1_000;
const MAX_DEVICES_PER_PAYER = 100;

/**
 * One Lua script per payment, so the whole read-and-record is atomic: a payment seen before returns
 * its first answer and changes nothing (a redelivered message cannot inflate a count). Velocity is
 * kept in one hash per entity and window, fields `c:<bucket>` (count) and `a:<currency>:<bucket>`
 * (amount, an exact int64 via HINCRBY); the buckets are those of VELOCITY_WINDOWS, as in the
 * reference InMemoryFeatureStore. Running totals per window (see `velocity` in the script) keep the
 * cost per payment near constant: summing every bucket of every window took ~1.3 ms of Redis CPU
 * per payment (about 300 field reads and the Lua string work around them), which capped a Redis at
 * ~700 payments/s. Amounts reach the reply in two halves (above and below 10^9). Every key has a TTL. Single Redis node: the keys of one payment
 * span several hash slots, so a Redis Cluster would need one slot per payer (future work).
 */
const SCRIPT = `
local t = tonumber(ARGV[1])
local currency = ARGV[2]
local velocityAmount = ARGV[3]
local historyAmount = ARGV[4]
local present = ARGV[5]
local card = ARGV[6]
local device = ARGV[7]
local seenTtl = tonumber(ARGV[8])
local historyLength = tonumber(ARGV[9])
local profileTtl = tonumber(ARGV[10])
local historyTtl = tonumber(ARGV[11])
local hourMs = tonumber(ARGV[12])
local dayMs = tonumber(ARGV[13])
local maxCards = tonumber(ARGV[14])
local maxDevices = tonumber(ARGV[15])
local windows = {}
for w = 0, 2 do windows[w + 1] = { tonumber(ARGV[16 + w * 2]), tonumber(ARGV[17 + w * 2]) } end

local stored = redis.call('GET', KEYS[1])
if stored then
  local reply = cjson.decode(stored)
  reply[1] = 'seen'
  return reply
end

local function int(x) return string.format('%.0f', x) end
local reply = { 'new' }

-- Sum of a window's buckets ending at bucket 'last' for one field prefix ('c:' or 'a:EUR:'): counts
-- as a number, amounts as an exact decimal string (halves above and below 10^9, so Lua's doubles
-- never lose a minor unit).
local function scan(key, prefix, last, bucketCount)
  local fields = {}
  for b = last - bucketCount + 1, last do fields[#fields + 1] = prefix .. int(b) end
  local hi, lo = 0, 0
  for _, value in ipairs(redis.call('HMGET', key, unpack(fields))) do
    if value then
      hi = hi + (tonumber(string.sub(value, 1, -10)) or 0)
      lo = lo + tonumber(string.sub(value, -9))
    end
  end
  hi = hi + math.floor(lo / 1000000000)
  lo = lo % 1000000000
  if hi > 0 then return int(hi) .. string.format('%09d', lo) end
  return int(lo)
end

local function halves(text)
  local hi = string.sub(text, 1, -10)
  if hi == '' then hi = '0' end
  return hi, string.sub(text, -9)
end

-- Each window's hash also keeps running totals for the window ending at its latest bucket ('L'):
-- 'T:c' and 'T:a:<currency>' (exact int64 via HINCRBY), and the currencies it has seen ('K').
-- A payment at or after the latest bucket moves the window: buckets that leave it are subtracted
-- (usually none or one), so the script reads a few fields instead of every bucket of every window.
-- A payment that arrives late (before the latest bucket) scans its own window, as the totals are
-- for a later one. A total missing (a currency's first payment, keys written before the totals
-- existed) is computed by a scan once.
local function velocity(key, bucketMs, bucketCount)
  local current = math.floor(t / bucketMs)
  redis.call('HINCRBY', key, 'c:' .. int(current), 1)
  redis.call('HINCRBY', key, 'a:' .. currency .. ':' .. int(current), velocityAmount)
  -- A key holding only this payment's two fields is new: its totals are this payment alone.
  local fresh = redis.call('HLEN', key) == 2
  local last = tonumber(redis.call('HGET', key, 'L'))
  local known = redis.call('HGET', key, 'K') or ','
  local amountTotal = 'T:a:' .. currency
  local count, amount
  if last and current < last then
    if current > last - bucketCount then
      redis.call('HINCRBY', key, 'T:c', 1)
      if string.find(known, ',' .. currency .. ',', 1, true) then redis.call('HINCRBY', key, amountTotal, velocityAmount) end
    end
    count, amount = tonumber(scan(key, 'c:', current, bucketCount)), scan(key, 'a:' .. currency .. ':', current, bucketCount)
  else
    local currencies = {}
    for code in string.gmatch(known, '[^,]+') do currencies[#currencies + 1] = code end
    if fresh then
      redis.call('HSET', key, 'T:c', 1)
    elseif not last then
      redis.call('HSET', key, 'T:c', scan(key, 'c:', current, bucketCount))
    elseif current - last >= bucketCount then
      redis.call('HSET', key, 'T:c', 1)
      for _, code in ipairs(currencies) do redis.call('HSET', key, 'T:a:' .. code, 0) end
    else
      -- Buckets leaving the window, read at once; each currency's amounts are subtracted one by one
      -- (int64 in Redis, exact), the counts as one number.
      local fields = {}
      for b = last - bucketCount + 1, current - bucketCount do
        fields[#fields + 1] = 'c:' .. int(b)
        for _, code in ipairs(currencies) do fields[#fields + 1] = 'a:' .. code .. ':' .. int(b) end
      end
      local leaving = 0
      if #fields > 0 then
        local values = redis.call('HMGET', key, unpack(fields))
        local stride = #currencies + 1
        for index, value in ipairs(values) do
          if value then
            local column = (index - 1) % stride
            if column == 0 then leaving = leaving + tonumber(value)
            else redis.call('HINCRBY', key, 'T:a:' .. currencies[column], '-' .. value) end
          end
        end
      end
      redis.call('HINCRBY', key, 'T:c', 1 - leaving)
    end
    if fresh then
      redis.call('HSET', key, 'K', ',' .. currency .. ',', amountTotal, velocityAmount)
    elseif not string.find(known, ',' .. currency .. ',', 1, true) then
      redis.call('HSET', key, 'K', known .. currency .. ',', amountTotal, scan(key, 'a:' .. currency .. ':', current, bucketCount))
    elseif last and current - last >= bucketCount then
      redis.call('HSET', key, amountTotal, velocityAmount)
    elseif last then
      redis.call('HINCRBY', key, amountTotal, velocityAmount)
    else
      redis.call('HSET', key, amountTotal, scan(key, 'a:' .. currency .. ':', current, bucketCount))
    end
    redis.call('HSET', key, 'L', int(current))
    last = current
    count, amount = tonumber(redis.call('HGET', key, 'T:c')), redis.call('HGET', key, amountTotal)
  end
  -- Prune buckets well past the window now and then, keeping a margin for late payments.
  if redis.call('HLEN', key) > 8 * bucketCount then
    for _, field in ipairs(redis.call('HKEYS', key)) do
      local bucket = tonumber(string.match(field, ':(%d+)$'))
      if bucket and bucket < last - 2 * bucketCount + 1 then redis.call('HDEL', key, field) end
    end
  end
  redis.call('PEXPIRE', key, 2 * bucketMs * bucketCount)
  local hi, lo = halves(amount)
  return count, hi, lo
end

for e = 0, 4 do
  if string.sub(present, e + 1, e + 1) == '1' then
    table.insert(reply, '1')
    for w = 1, 3 do
      local count, hi, lo = velocity(KEYS[2 + e * 3 + (w - 1)], windows[w][1], windows[w][2])
      table.insert(reply, int(count))
      table.insert(reply, hi)
      table.insert(reply, lo)
    end
  else
    table.insert(reply, '0')
  end
end

for c = 0, 1 do
  local key = KEYS[17 + c]
  if string.sub(present, 3 + c, 3 + c) == '1' then
    if card ~= '' then redis.call('ZADD', key, 'GT', t, card) end
    redis.call('ZREMRANGEBYSCORE', key, '-inf', int(t - dayMs))
    redis.call('ZREMRANGEBYRANK', key, 0, -(maxCards + 1))
    redis.call('PEXPIRE', key, dayMs + hourMs)
    table.insert(reply, '1')
    table.insert(reply, int(redis.call('ZCOUNT', key, '(' .. int(t - hourMs), '+inf')))
    table.insert(reply, int(redis.call('ZCARD', key)))
  else
    table.insert(reply, '0')
    table.insert(reply, '0')
    table.insert(reply, '0')
  end
end

local firstSeen = tonumber(redis.call('GET', KEYS[20]))
if not firstSeen or t < firstSeen then
  firstSeen = t
  redis.call('SET', KEYS[20], int(t))
end
redis.call('PEXPIRE', KEYS[20], profileTtl)
table.insert(reply, int(firstSeen))

if device ~= '' then
  local known = redis.call('ZSCORE', KEYS[21], device)
  redis.call('ZADD', KEYS[21], 'LT', t, device)
  redis.call('ZREMRANGEBYRANK', KEYS[21], 0, -(maxDevices + 1))
  redis.call('PEXPIRE', KEYS[21], profileTtl)
  if (not known) or tonumber(known) >= t then table.insert(reply, '1') else table.insert(reply, '0') end
else
  table.insert(reply, '-1')
end

local history = redis.call('LRANGE', KEYS[19], 0, historyLength - 1)
redis.call('LPUSH', KEYS[19], historyAmount)
redis.call('LTRIM', KEYS[19], 0, historyLength - 1)
redis.call('PEXPIRE', KEYS[19], historyTtl)
for _, amount in ipairs(history) do table.insert(reply, amount) end

redis.call('SET', KEYS[1], cjson.encode(reply), 'PX', seenTtl)
return reply
`;

type ObserveCommand = (...keysAndArgs: (string | number)[]) => Promise<string[]>;

/** Where a key for an entity the payment does not name points; the script never touches it. */
const ABSENT = 'risk:absent';

/** Risk's features in Redis; see SCRIPT for the layout and InMemoryFeatureStore for the semantics. */
export class RedisFeatureStore {
  private readonly observeCommand: ObserveCommand;

  /** `prefix` keeps tests apart from each other and from a running service. */
  constructor(redis: Redis, private readonly prefix = 'risk') {
    if (!(redis as unknown as Record<string, unknown>)['riskObservePayment']) redis.defineCommand('riskObservePayment', { numberOfKeys: 21, lua: SCRIPT });
    this.observeCommand = (redis as unknown as Record<string, ObserveCommand>)['riskObservePayment']!.bind(redis);
  }

  async observe(payment: RiskPayment): Promise<RiskFeatures> {
    const ids = velocityEntitiesOf(payment);
    const velocityKeys = VELOCITY_ENTITIES.flatMap((entity) => VELOCITY_WINDOWS.map((window) => {
      const id = ids[entity];
      return id === undefined ? ABSENT : `${this.prefix}:v:${entity}:${id}:${window.name}`;
    }));
    const keys = [
      `${this.prefix}:seen:${payment.paymentId}`,
      ...velocityKeys,
      payment.deviceId === null ? ABSENT : `${this.prefix}:cards:device:${payment.deviceId}`,
      payment.ipAddress === null ? ABSENT : `${this.prefix}:cards:ip:${payment.ipAddress}`,
      `${this.prefix}:history:${payment.payerAccountId}:${payment.currency}`,
      `${this.prefix}:first-seen:${payment.payerAccountId}`,
      `${this.prefix}:devices:${payment.payerAccountId}`,
    ];
    const velocityAmount = payment.amountMinor < VELOCITY_AMOUNT_CAP_MINOR ? payment.amountMinor : VELOCITY_AMOUNT_CAP_MINOR;
    const present = VELOCITY_ENTITIES.map((entity) => (ids[entity] === undefined ? '0' : '1')).join('');
    const args = [
      payment.requestedAtMs, payment.currency, velocityAmount.toString(), payment.amountMinor.toString(), present,
      payment.cardFingerprint ?? '', payment.deviceId ?? '', SEEN_TTL_MS, PAYER_HISTORY_LENGTH, PROFILE_TTL_MS, HISTORY_TTL_MS,
      DISTINCT_CARD_WINDOWS_MS['1h'], DISTINCT_CARD_WINDOWS_MS['24h'], MAX_CARDS_PER_KEY, MAX_DEVICES_PER_PAYER,
      ...VELOCITY_WINDOWS.flatMap((window) => [window.bucketMs, window.bucketCount]),
    ];
    return parseReply(await this.observeCommand(...keys, ...args), payment.requestedAtMs);
  }
}

/** Reads the script's reply (see SCRIPT for its order) into features. */
export function parseReply(reply: readonly string[], requestedAtMs: number): RiskFeatures {
  let position = 1;
  const next = (): string => {
    const value = reply[position++];
    if (value === undefined) throw new Error(`risk feature reply ended early at ${position - 1}`);
    return value;
  };
  const velocity = {} as Record<VelocityEntity, EntityVelocity | null>;
  for (const entity of VELOCITY_ENTITIES) {
    if (next() === '0') {
      velocity[entity] = null;
      continue;
    }
    const totals = {} as Record<string, { count: number; amountMinor: bigint }>;
    for (const window of VELOCITY_WINDOWS) {
      const count = Number(next());
      const amountMinor = BigInt(next()) * 1_000_000_000n + BigInt(next());
      totals[window.name] = { count, amountMinor };
    }
    velocity[entity] = totals as EntityVelocity;
  }
  const cards = (): DistinctCards | null => {
    const isPresent = next() === '1';
    const last1h = Number(next());
    const last24h = Number(next());
    return isPresent ? { last1h, last24h } : null;
  };
  const distinctCardsPerDevice = cards();
  const distinctCardsPerIp = cards();
  const firstSeenMs = Number(next());
  const deviceFlag = next();
  const history = reply.slice(position).map((amount) => BigInt(amount));
  return {
    velocity,
    distinctCardsPerDevice,
    distinctCardsPerIp,
    payerHistory: summariseHistory(history),
    accountAgeMs: Math.max(0, requestedAtMs - firstSeenMs),
    firstUseOfDevice: deviceFlag === '-1' ? null : deviceFlag === '1',
  };
}
