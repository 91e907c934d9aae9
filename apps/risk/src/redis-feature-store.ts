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
 * (amount); the buckets are those of VELOCITY_WINDOWS, as in the reference InMemoryFeatureStore, and
 * a payment's window is the `bucketCount` buckets ending with its own. Each hash also keeps running
 * totals for the window ending at its latest bucket, so a payment reads a few fields instead of every
 * bucket of every window (summing them all took ~1.3 ms of Redis CPU per payment).
 *
 * What a payment costs Redis is mostly the number of `redis.call`s (each ~1-2 µs of Lua-to-Redis
 * overhead), so each window's hash is read with one HMGET (latest bucket, currencies, totals, this
 * payment's bucket), the buckets leaving the window with at most one more, and written back with one
 * HSET: 4-5 calls per window instead of ~12 (HINCRBY and HGET one field at a time). Amounts are
 * added in Lua as two exact halves (above and below 10^9, each well within a double's 2^53), so
 * sums stay exact to the minor unit; they reach the reply in the same two halves. Every key has a
 * TTL. Single Redis node: the keys of one payment span several hash slots, so a Redis Cluster would
 * need one slot per payer (future work).
 */
const SCRIPT = `
local t = tonumber(ARGV[1])
local currency = ARGV[2]
local velocityAmount = ARGV[3]
local historyAmount = ARGV[4]
local present = ARGV[5]
local card = ARGV[6]
local device = ARGV[7]
local seenTtl = ARGV[8]
local lastHistoryIndex = string.format('%d', tonumber(ARGV[9]) - 1)
local profileTtl = ARGV[10]
local historyTtl = ARGV[11]
local hourMs = tonumber(ARGV[12])
local dayMs = tonumber(ARGV[13])
local cardsTtl = string.format('%d', dayMs + hourMs)
local maxCards = tonumber(ARGV[14])
local beyondMaxCards = string.format('%d', -(maxCards + 1))
local beyondMaxDevices = string.format('%d', -(tonumber(ARGV[15]) + 1))
local windows = {}
for w = 0, 2 do
  local bucketMs, bucketCount = tonumber(ARGV[16 + w * 2]), tonumber(ARGV[17 + w * 2])
  windows[w + 1] = { bucketMs, bucketCount, string.format('%d', 2 * bucketMs * bucketCount) }
end

local stored = redis.call('GET', KEYS[1])
if stored then
  local reply = cjson.decode(stored)
  reply[1] = 'seen'
  return reply
end

-- Numbers become strings through printf: '%.0f' (a time, rounded, as before) goes through glibc's
-- multi-precision float formatting, ~15 % of the script's CPU when it named every bucket; '%d'
-- formats a whole number (buckets, counts, halves of amounts) as an integer, far cheaper.
local function int(x) return string.format('%.0f', x) end
local function whole(x) return string.format('%d', x) end
local reply = { 'new' }

-- Exact amounts: a decimal string (or nil for 0) as halves hi * 10^9 + lo, added as numbers and
-- normalised (lo in 0 .. 10^9 - 1) before they are written back as a decimal string.
local E9 = 1000000000
local function split(text)
  if not text then return 0, 0 end
  return tonumber(string.sub(text, 1, -10)) or 0, tonumber(string.sub(text, -9))
end
local function decimal(hi, lo)
  local carry = math.floor(lo / E9)
  hi, lo = hi + carry, lo - carry * E9
  if hi > 0 then return string.format('%d%09d', hi, lo) end
  if hi < 0 then error('risk velocity: a negative amount total (bug)') end
  return whole(lo)
end
local function plus(a, b)
  local ahi, alo = split(a)
  local bhi, blo = split(b)
  return decimal(ahi + bhi, alo + blo)
end
local function minus(a, b)
  local ahi, alo = split(a)
  local bhi, blo = split(b)
  return decimal(ahi - bhi, alo - blo)
end
local velocityHi, velocityLo = split(velocityAmount)

-- The window of bucket 'last' (its bucketCount buckets) summed from the stored buckets, with
-- this payment added (it is not written yet): counts as a number, amounts as a decimal string.
local function scan(key, prefix, last, bucketCount, own)
  local fields = {}
  for b = last - bucketCount + 1, last do fields[#fields + 1] = prefix .. whole(b) end
  local hi, lo = 0, 0
  for _, value in ipairs(redis.call('HMGET', key, unpack(fields))) do
    if value then
      local vhi, vlo = split(value)
      hi, lo = hi + vhi, lo + vlo
    end
  end
  local ownHi, ownLo = split(own)
  return decimal(hi + ownHi, lo + ownLo)
end

local function has(known, code) return string.find(known, ',' .. code .. ',', 1, true) ~= nil end

-- One window's hash: the buckets 'c:<b>' and 'a:<currency>:<b>', and the running totals of the
-- window ending at the latest bucket 'L': 'T:c', 'T:a:<currency>' for the currencies in 'K'.
-- A payment at or after the latest bucket moves the window: buckets that leave it are subtracted
-- (usually none or one). A payment that arrives late (before the latest bucket) scans its own
-- window, as the totals are for a later one, and adds itself to the totals when it falls inside
-- theirs. A total missing (a currency's first payment in the key, a key without totals) is
-- computed by a scan once. Returns the window's count and amount in this payment's currency.
local function velocity(key, bucketMs, bucketCount, ttl)
  local current = math.floor(t / bucketMs)
  local bucket = whole(current)
  local countField, amountField, amountTotal = 'c:' .. bucket, 'a:' .. currency .. ':' .. bucket, 'T:a:' .. currency
  local head = redis.call('HMGET', key, 'L', 'K', 'T:c', amountTotal, countField, amountField)
  local last, known, countTotal = tonumber(head[1]), head[2] or ',', head[3]
  local writes = { countField, whole((tonumber(head[5]) or 0) + 1), amountField, plus(head[6], velocityAmount) }
  local function write(field, value) writes[#writes + 1] = field; writes[#writes + 1] = value end
  local count, amount
  if last and current < last then
    if current > last - bucketCount then
      write('T:c', whole((tonumber(countTotal) or 0) + 1))
      if has(known, currency) then write(amountTotal, plus(head[4], velocityAmount)) end
    end
    count, amount = tonumber(scan(key, 'c:', current, bucketCount, '1')), scan(key, 'a:' .. currency .. ':', current, bucketCount, velocityAmount)
  else
    local currencies = {}
    for code in string.gmatch(known, '[^,]+') do currencies[#currencies + 1] = code end
    local fresh = (not last) and redis.call('EXISTS', key) == 0
    local totals = {}
    if fresh then
      count = 1
    elseif not last then
      count = tonumber(scan(key, 'c:', current, bucketCount, '1'))
    elseif current - last >= bucketCount then
      count = 1
      for _, code in ipairs(currencies) do totals[code] = '0' end
    elseif current == last then
      count = (tonumber(countTotal) or 0) + 1
    else
      -- Buckets leaving the window, and every currency's total, read at once.
      local fields = {}
      for _, code in ipairs(currencies) do fields[#fields + 1] = 'T:a:' .. code end
      for b = last - bucketCount + 1, current - bucketCount do
        fields[#fields + 1] = 'c:' .. whole(b)
        for _, code in ipairs(currencies) do fields[#fields + 1] = 'a:' .. code .. ':' .. whole(b) end
      end
      local values = redis.call('HMGET', key, unpack(fields))
      local leaving = 0
      local stride = #currencies + 1
      for index, code in ipairs(currencies) do totals[code] = values[index] end
      for index = #currencies + 1, #fields do
        local value = values[index]
        if value then
          local column = (index - #currencies - 1) % stride
          if column == 0 then leaving = leaving + tonumber(value)
          else
            local code = currencies[column]
            totals[code] = minus(totals[code], value)
          end
        end
      end
      count = (tonumber(countTotal) or 0) + 1 - leaving
    end
    for _, code in ipairs(currencies) do
      if code ~= currency and totals[code] then write('T:a:' .. code, totals[code]) end
    end
    if fresh then
      known = ',' .. currency .. ','
      amount = velocityAmount
    elseif not has(known, currency) then
      known = known .. currency .. ','
      amount = scan(key, 'a:' .. currency .. ':', current, bucketCount, velocityAmount)
    elseif last and current - last >= bucketCount then
      amount = velocityAmount
    elseif last then
      amount = plus(totals[currency] or head[4], velocityAmount)
    else
      amount = scan(key, 'a:' .. currency .. ':', current, bucketCount, velocityAmount)
    end
    write('T:c', whole(count))
    write(amountTotal, amount)
    write('K', known)
    write('L', bucket)
    last = current
  end
  redis.call('HSET', key, unpack(writes))
  -- Prune buckets well past the window now and then, keeping a margin for late payments.
  if redis.call('HLEN', key) > 8 * bucketCount then
    for _, field in ipairs(redis.call('HKEYS', key)) do
      local bucket = tonumber(string.match(field, ':(%d+)$'))
      if bucket and bucket < last - 2 * bucketCount + 1 then redis.call('HDEL', key, field) end
    end
  end
  redis.call('PEXPIRE', key, ttl)
  local hi, lo = split(amount)
  return count, whole(hi), string.format('%09d', lo)
end

for e = 0, 4 do
  if string.sub(present, e + 1, e + 1) == '1' then
    table.insert(reply, '1')
    for w = 1, 3 do
      local count, hi, lo = velocity(KEYS[2 + e * 3 + (w - 1)], windows[w][1], windows[w][2], windows[w][3])
      table.insert(reply, whole(count))
      table.insert(reply, hi)
      table.insert(reply, lo)
    end
  else
    table.insert(reply, '0')
  end
end

-- Distinct cards per device and per IP. Without a card to record, an empty set needs no pruning.
for c = 0, 1 do
  local key = KEYS[17 + c]
  if string.sub(present, 3 + c, 3 + c) == '1' then
    local cards
    if card ~= '' then
      redis.call('ZADD', key, 'GT', t, card)
      cards = -1
    else
      cards = redis.call('ZCARD', key)
    end
    table.insert(reply, '1')
    if cards == 0 then
      table.insert(reply, '0')
      table.insert(reply, '0')
    else
      redis.call('ZREMRANGEBYSCORE', key, '-inf', int(t - dayMs))
      cards = redis.call('ZCARD', key)
      if cards > maxCards then
        redis.call('ZREMRANGEBYRANK', key, '0', beyondMaxCards)
        cards = maxCards
      end
      redis.call('PEXPIRE', key, cardsTtl)
      table.insert(reply, whole(redis.call('ZCOUNT', key, '(' .. int(t - hourMs), '+inf')))
      table.insert(reply, whole(cards))
    end
  else
    table.insert(reply, '0')
    table.insert(reply, '0')
    table.insert(reply, '0')
  end
end

local firstSeen = tonumber(redis.call('GET', KEYS[20]))
if not firstSeen or t < firstSeen then
  firstSeen = t
  redis.call('SET', KEYS[20], int(t), 'PX', profileTtl)
else
  redis.call('PEXPIRE', KEYS[20], profileTtl)
end
table.insert(reply, int(firstSeen))

if device ~= '' then
  local known = redis.call('ZSCORE', KEYS[21], device)
  -- Only a device added can take the set past its bound.
  if redis.call('ZADD', KEYS[21], 'LT', t, device) > 0 then redis.call('ZREMRANGEBYRANK', KEYS[21], '0', beyondMaxDevices) end
  redis.call('PEXPIRE', KEYS[21], profileTtl)
  if (not known) or tonumber(known) >= t then table.insert(reply, '1') else table.insert(reply, '0') end
else
  table.insert(reply, '-1')
end

local history = redis.call('LRANGE', KEYS[19], '0', lastHistoryIndex)
redis.call('LPUSH', KEYS[19], historyAmount)
redis.call('LTRIM', KEYS[19], '0', lastHistoryIndex)
redis.call('PEXPIRE', KEYS[19], historyTtl)
for _, amount in ipairs(history) do table.insert(reply, amount) end

redis.call('SET', KEYS[1], cjson.encode(reply), 'PX', seenTtl)
return reply
`;

type ObserveCommand = (...keysAndArgs: (string | number)[]) => Promise<string[]>;
type ReplyCallback = (error: Error | null | undefined, reply?: string[]) => void;
type PipelinedObserveCommand = (...keysArgsAndCallback: (string | number | ReplyCallback)[]) => unknown;

/** Where a key for an entity the payment does not name points; the script never touches it. */
const ABSENT = 'risk:absent';

/** Risk's features in Redis; see SCRIPT for the layout and InMemoryFeatureStore for the semantics. */
export class RedisFeatureStore {
  private readonly observeCommand: ObserveCommand;

  /** `prefix` keeps tests apart from each other and from a running service. */
  constructor(private readonly redis: Redis, private readonly prefix = 'risk') {
    if (!(redis as unknown as Record<string, unknown>)['riskObservePayment']) redis.defineCommand('riskObservePayment', { numberOfKeys: 21, lua: SCRIPT });
    this.observeCommand = (redis as unknown as Record<string, ObserveCommand>)['riskObservePayment']!.bind(redis);
  }

  async observe(payment: RiskPayment): Promise<RiskFeatures> {
    return parseReply(await this.observeCommand(...this.keysAndArgumentsOf(payment)), payment.requestedAtMs);
  }

  /**
   * Observes several payments in order, sent to Redis in one pipeline (one write, one script each,
   * so each stays atomic), and returns one answer per payment, each settled as its own reply
   * arrives: a payment whose script fails gets that failure alone.
   */
  observeAll(payments: readonly RiskPayment[]): Promise<RiskFeatures>[] {
    if (payments.length === 1) return [this.observe(payments[0]!)];
    const pipeline = this.redis.pipeline();
    const command = (pipeline as unknown as Record<string, PipelinedObserveCommand>)['riskObservePayment']!.bind(pipeline);
    const settlers: { reject: (error: unknown) => void }[] = [];
    const answers = payments.map((payment) => new Promise<RiskFeatures>((resolve, reject) => {
      settlers.push({ reject });
      command(...this.keysAndArgumentsOf(payment), (error, reply) => {
        if (error || reply === undefined) reject(error ?? new Error('risk feature script: no reply'));
        else {
          try {
            resolve(parseReply(reply, payment.requestedAtMs));
          } catch (parseError) {
            reject(parseError);
          }
        }
      });
    }));
    // Each command's own callback carries its outcome; a pipeline that fails as a whole (never sent)
    // fails every payment that has no answer yet (a settled promise ignores the second settlement).
    pipeline.exec().catch((error: unknown) => {
      for (const settler of settlers) settler.reject(error);
    });
    return answers;
  }

  private keysAndArgumentsOf(payment: RiskPayment): (string | number)[] {
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
    return [
      ...keys,
      payment.requestedAtMs, payment.currency, velocityAmount.toString(), payment.amountMinor.toString(), present,
      payment.cardFingerprint ?? '', payment.deviceId ?? '', SEEN_TTL_MS, PAYER_HISTORY_LENGTH, PROFILE_TTL_MS, HISTORY_TTL_MS,
      DISTINCT_CARD_WINDOWS_MS['1h'], DISTINCT_CARD_WINDOWS_MS['24h'], MAX_CARDS_PER_KEY, MAX_DEVICES_PER_PAYER,
      ...VELOCITY_WINDOWS.flatMap((window) => [window.bucketMs, window.bucketCount]),
    ];
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
