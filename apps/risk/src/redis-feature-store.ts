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
/** The window (1-based, as in Lua) whose buckets are longest (1 h): an entity's TTL is refreshed when it moves. */
const LONGEST_WINDOW = 1 + VELOCITY_WINDOWS.findIndex((window) => window.bucketMs === Math.max(...VELOCITY_WINDOWS.map((other) => other.bucketMs)));
/** An entity's velocity hash lives twice its longest window after that window last moved (see SCRIPT). */
const VELOCITY_TTL_MS = 2 * Math.max(...VELOCITY_WINDOWS.map((window) => window.bucketMs * window.bucketCount));

/** A Lua table constructor for a list of strings or numbers (names from VELOCITY_WINDOWS: no quotes in them). */
function luaList(values: readonly (string | number)[]): string {
  return `{ ${values.map((value) => (typeof value === 'number' ? String(value) : `'${value}'`)).join(', ')} }`;
}

/**
 * One Lua script per payment, so the whole read-and-record is atomic: a payment seen before returns
 * its first answer and changes nothing (a redelivered message cannot inflate a count). The first
 * answer is kept as MessagePack under `<prefix>:seen:<paymentId>`; one kept as JSON (before this
 * layout) still reads.
 *
 * Velocity: one hash per entity, `<prefix>:velocity:<entity>:<id>`, holds every window of
 * VELOCITY_WINDOWS (the buckets of the reference InMemoryFeatureStore: a payment's window is the
 * `bucketCount` buckets ending with its own). Fields, prefixed by the window's name (`1m`, `1h`, `24h`):
 * - `<w>:c:<bucket>` and `<w>:a:<currency>:<bucket>`: a bucket's count and amount per currency;
 * - `<w>:L`: the latest bucket; `<w>:T:c` and `<w>:T:a:<currency>`: running totals of the window
 *   ending at `<w>:L`, so a payment reads a few fields instead of every bucket;
 * - `<w>:M` and `<w>:P`: maps of the window ending at `<w>:L` and of the window before it, one
 *   character per bucket ('1': it holds payments). The window before is kept for late payments, as
 *   the reference keeps it. A window that moves reads the buckets leaving it and deletes those
 *   falling off the maps, naming only the buckets the maps mark: the hash holds exactly the buckets
 *   the reference holds and is never scanned (no HLEN, no HKEYS). Two maps rather than one of twice
 *   the length keep every value within Redis's `hash-max-listpack-value` (64 bytes), so a small
 *   hash stays compact (listpack) as the server's configuration has it;
 * - `K`: the currencies the key has seen (`,EUR,USD,`); `O` (rare): buckets of payments more than two
 *   windows late (`<w>:<bucket>,...`, at most 100), which count with each other until a payment two
 *   windows past them drops them, as the reference does.
 * A late payment (its bucket before `<w>:L`) sums its own window (from the totals, minus and plus the
 * buckets between, when less than half a window late) and is added to the totals when its bucket is
 * in their window. The key's TTL, twice the longest window (48 h), is set when the key is created and
 * refreshed when the window with the longest buckets moves (at most once an hour of payment time), so
 * a key outlives its last payment by at least 47 h when payments carry the wall-clock time.
 * Changing VELOCITY_WINDOWS needs a new key name (the maps and bucket numbers would be misread).
 * This layout replaced one hash per entity and window (`<prefix>:v:<entity>:<id>:<window>`); those
 * keys were left to expire (velocity keys are short-lived, so counts started afresh at the change).
 *
 * Cost, with the risk bench's simulated traffic: ~31 Redis calls per payment instead of ~84 (per
 * entity one HMGET of 23 fields and one HSET; when a window moves, one HMGET of the buckets leaving it
 * and one HDEL of those falling off the maps; a PEXPIRE when the hour moves), and about half the
 * Redis CPU (600-750 -> 290-340 µs per payment on a private redis-server; 2.64 M -> 1.53 M
 * instructions under valgrind; ~70 % less with late payments, which no longer scan). What is left is
 * mostly Lua and turning values into strings and back, so: the field names are built once per
 * payment (the same for every entity) and constants are written into the script; hot globals are
 * read into locals; whole numbers are printed with '%d' (Lua's own conversion, Redis's for a number
 * argument and cjson's go through the float printer, ~2x dearer); the first answer is stored as
 * MessagePack (JSON printed each of its numbers that way); lists are reused across entities. With
 * `hash-max-listpack-entries` at 16, every entity hash is a hashtable: ~20 % less CPU again, ~2x the
 * memory. Amounts are exact: a decimal string is read as two halves (above and below 10^9), added
 * as two numbers (each far below a double's 2^53) and returned in the same two halves. Every key has
 * a TTL. Single Redis node: the keys of one payment span several hash slots, so a Redis Cluster would
 * need one slot per payer (future work).
 */
const SCRIPT = `
local stored = redis.call('GET', KEYS[1])
if stored then
  -- MessagePack; JSON (an array, '[') when written before the per-entity layout.
  local reply
  if string.byte(stored, 1) == 91 then reply = cjson.decode(stored) else reply = cmsgpack.unpack(stored) end
  reply[1] = 'seen'
  return reply
end

-- Globals are table lookups in Lua 5.1: the hot ones are read once.
local call, format, find, sub, rep, byte, floor, tonumber, unpack = redis.call, string.format, string.find, string.sub, string.rep, string.byte, math.floor, tonumber, unpack

local t = tonumber(ARGV[1])
local currency = ARGV[2]
local historyAmount = ARGV[4]
local present = ARGV[5]
local card = ARGV[6]
local device = ARGV[7]
-- Times are rounded to whole milliseconds where stored or compared ('%.0f'); a whole t needs no
-- rounding, and '%d' prints an integer without the float printer.
local timeFormat = '%.0f'
if floor(t) == t then timeFormat = '%d' end

-- Exact amounts: a decimal string is read as halves hi * 10^9 + lo, added as two numbers (each sum
-- far below a double's 2^53) and normalised (lo in 0 .. 10^9 - 1) when written or returned.
local E9 = 1000000000
local function halvesOf(text)
  if not text then return 0, 0 end
  if #text <= 9 then return 0, tonumber(text) end
  return tonumber(sub(text, 1, -10)), tonumber(sub(text, -9))
end
local function normalised(hi, lo)
  if lo >= E9 or lo < 0 then
    local carry = floor(lo / E9)
    hi, lo = hi + carry, lo - carry * E9
  end
  if hi < 0 then error('risk velocity: a negative amount total (bug)') end
  return hi, lo
end
local function decimal(hi, lo)
  hi, lo = normalised(hi, lo)
  if hi == 0 then return format('%d', lo) end
  return format('%d%09d', hi, lo)
end
local amountText = ARGV[3]
local amountHi, amountLo = halvesOf(amountText)

-- The windows (VELOCITY_WINDOWS) and, per window, this payment's bucket and the fields an entity's
-- hash is read with (the same for every entity): 'K', 'O', then per window its latest bucket, its
-- maps (the window before, the window), count total, amount total in this payment's currency, and
-- this payment's bucket (count, amount).
local windowCount, longest = ${VELOCITY_WINDOWS.length}, ${LONGEST_WINDOW}
local windowNames, bucketMsOf, bucketCounts, spans = ${luaList(VELOCITY_WINDOWS.map((window) => window.name))}, ${luaList(VELOCITY_WINDOWS.map((window) => window.bucketMs))}, ${luaList(VELOCITY_WINDOWS.map((window) => window.bucketCount))}, ${luaList(VELOCITY_WINDOWS.map((window) => 2 * window.bucketCount))}
local countPrefixes, amountPrefixes, totalPrefixes = ${luaList(VELOCITY_WINDOWS.map((window) => `${window.name}:c:`))}, ${luaList(VELOCITY_WINDOWS.map((window) => `${window.name}:a:`))}, ${luaList(VELOCITY_WINDOWS.map((window) => `${window.name}:T:a:`))}
local latestFields, previousMapFields, mapFields = ${luaList(VELOCITY_WINDOWS.map((window) => `${window.name}:L`))}, ${luaList(VELOCITY_WINDOWS.map((window) => `${window.name}:P`))}, ${luaList(VELOCITY_WINDOWS.map((window) => `${window.name}:M`))}
local countTotalFields = ${luaList(VELOCITY_WINDOWS.map((window) => `${window.name}:T:c`))}
local windowOf = { ${VELOCITY_WINDOWS.map((window, index) => `['${window.name}'] = ${index + 1}`).join(', ')} }
local currents, currentTexts, ownAmountPrefixes = {}, {}, {}
local headFields = { 'K', 'O' }
for w = 1, windowCount do
  local current = floor(t / bucketMsOf[w])
  local currentText = format('%d', current)
  local ownAmountPrefix = amountPrefixes[w] .. currency .. ':'
  currents[w], currentTexts[w], ownAmountPrefixes[w] = current, currentText, ownAmountPrefix
  local h = 2 + (w - 1) * 7
  headFields[h + 1], headFields[h + 2], headFields[h + 3], headFields[h + 4] = latestFields[w], previousMapFields[w], mapFields[w], countTotalFields[w]
  headFields[h + 5], headFields[h + 6], headFields[h + 7] = totalPrefixes[w] .. currency, countPrefixes[w] .. currentText, ownAmountPrefix .. currentText
end
local soleKnown = ',' .. currency .. ','
local soleCodes = { currency }

-- Appends the fields of a bucket (its number as a string) of window w: the count, then the amount
-- in each of 'codes', or in this payment's currency alone when codes is nil.
local function appendBucket(list, size, w, bucket, codes)
  size = size + 1
  list[size] = countPrefixes[w] .. bucket
  if codes then
    for c = 1, #codes do
      size = size + 1
      list[size] = amountPrefixes[w] .. codes[c] .. ':' .. bucket
    end
  else
    size = size + 1
    list[size] = ownAmountPrefixes[w] .. bucket
  end
  return size
end

-- The same for every bucket that holds payments at positions from..to of a window's map (position
-- i is bucket base + i). Returns the list's new size and the number of buckets.
local function appendMapBuckets(list, size, map, from, to, base, w, codes)
  local buckets = 0
  local position = find(map, '1', from, true)
  while position and position <= to do
    size = appendBucket(list, size, w, format('%d', base + position), codes)
    buckets = buckets + 1
    position = find(map, '1', position + 1, true)
  end
  return size, buckets
end

-- Sums 'buckets' buckets read as (count, amount in this payment's currency) from values[start].
local function sumOwn(values, start, buckets)
  local count, hi, lo = 0, 0, 0
  for b = start, start + 2 * buckets - 1, 2 do
    local bucketHi, bucketLo = halvesOf(values[b + 1])
    count, hi, lo = count + (tonumber(values[b]) or 0), hi + bucketHi, lo + bucketLo
  end
  return count, hi, lo
end

-- What a window does with this payment: the same latest bucket; a later one (the window moves by
-- less than its length, or starts afresh); a late payment within half a window (its window from
-- the totals), within the map (its window summed), or before the map (an orphan, stored or not).
local SAME, MOVE, RESET, LATE_DIFFERENCE, LATE_SCAN, ORPHAN, UNSTORED = 1, 2, 3, 4, 5, 6, 7
local MAX_ORPHANS = 100
local kinds, inTotals, readStarts, readBuckets, moreBuckets = {}, {}, {}, {}, {}
-- Lists built per entity, reused (a table grows by rehashing): their sizes are kept beside them.
local writes, reads, deletes, orphanWindows, orphanBuckets = {}, {}, {}, {}, {}
local reply = { 'new' }
local n = 1

-- One entity: records the payment in every window of its hash and appends to the reply, per window,
-- the count and the amount (in this payment's currency, as halves) of the payment's window.
local function velocity(key)
  local head = call('HMGET', key, unpack(headFields))
  local known, orphanText = head[1], head[2]
  local codes, own, size = soleCodes, 1, 0
  if not known then
    writes[1], writes[2], size = 'K', soleKnown, 2
  elseif known ~= soleKnown then
    codes, own = {}, nil
    for code in string.gmatch(known, '[^,]+') do
      codes[#codes + 1] = code
      if code == currency then own = #codes end
    end
    if not own then
      codes[#codes + 1] = currency
      own = #codes
      writes[1], writes[2], size = 'K', known .. currency .. ',', 2
    end
  end
  local allCodes = nil
  if codes ~= soleCodes then allCodes = codes end
  local stride = #codes + 1
  local readSize, deleteSize = 0, 0
  local refresh = not known
  -- Orphans: buckets of late payments before their window's map, listed in 'O' (<window>:<bucket>),
  -- dropped when this payment's bucket is two windows past them, as the reference drops them.
  local orphanCount, orphansChanged = 0, false
  if orphanText then
    for name, bucket in string.gmatch(orphanText, '([^,:]+):(%d+)') do
      local w = windowOf[name]
      if w and tonumber(bucket) > currents[w] - spans[w] then
        orphanCount = orphanCount + 1
        orphanWindows[orphanCount], orphanBuckets[orphanCount] = w, bucket
      else
        orphansChanged = true
        if w then deleteSize = appendBucket(deletes, deleteSize, w, bucket, allCodes) end
      end
    end
  end
  for w = 1, windowCount do
    local h = 2 + (w - 1) * 7
    local current, bucketCount, span = currents[w], bucketCounts[w], spans[w]
    local last, previousMap, windowMap = tonumber(head[h + 1]), head[h + 2], head[h + 3]
    if not previousMap or not windowMap or #previousMap ~= bucketCount or #windowMap ~= bucketCount then last = nil end
    local kind, moved, map = RESET, 0, nil
    if last then
      moved = current - last
      -- The whole map (position i: bucket last - span + i), when the window moves or the payment is late.
      if moved ~= 0 then map = previousMap .. windowMap end
      if moved == 0 then kind = SAME
      elseif moved > 0 then
        -- Buckets falling off the map are deleted; those leaving the window are read.
        deleteSize = appendMapBuckets(deletes, deleteSize, map, 1, moved < span and moved or span, last - span, w, allCodes)
        if moved < bucketCount then
          kind = MOVE
          readStarts[w] = readSize + 1
          readSize, readBuckets[w] = appendMapBuckets(reads, readSize, map, bucketCount + 1, bucketCount + moved, last - span, w, allCodes)
          if allCodes then
            for c = 1, #codes do
              readSize = readSize + 1
              reads[readSize] = totalPrefixes[w] .. codes[c]
            end
          end
        end
      else
        local lateness = -moved
        local position = span - lateness
        inTotals[w] = lateness < bucketCount
        readStarts[w], readBuckets[w], moreBuckets[w] = readSize + 1, 0, 0
        if 2 * lateness < bucketCount then
          kind = LATE_DIFFERENCE
          readSize, readBuckets[w] = appendMapBuckets(reads, readSize, map, position + 1, span, last - span, w, nil)
          readSize, moreBuckets[w] = appendMapBuckets(reads, readSize, map, bucketCount - lateness + 1, bucketCount, last - span, w, nil)
        else
          if position >= 1 then
            kind = LATE_SCAN
            readSize, readBuckets[w] = appendMapBuckets(reads, readSize, map, position > bucketCount and position - bucketCount + 1 or 1, position - 1, last - span, w, nil)
          elseif head[h + 6] then
            kind = ORPHAN
          elseif orphanCount < MAX_ORPHANS then
            kind = ORPHAN
            orphanCount, orphansChanged = orphanCount + 1, true
            orphanWindows[orphanCount], orphanBuckets[orphanCount] = w, currentTexts[w]
          else
            kind = UNSTORED
          end
          -- The orphans in this payment's window (all before the map, so before this bucket).
          for o = 1, orphanCount do
            if orphanWindows[o] == w then
              local bucket = tonumber(orphanBuckets[o])
              if bucket > current - bucketCount and bucket < current then
                readSize = appendBucket(reads, readSize, w, orphanBuckets[o], nil)
                readBuckets[w] = readBuckets[w] + 1
              end
            end
          end
        end
      end
    end
    kinds[w] = kind
    -- The map after this payment, written in its two halves (each short enough for a compact hash).
    if kind == RESET or kind == MOVE then
      if last and moved < span then
        map = sub(map, moved + 1) .. rep('0', moved - 1) .. '1'
      else
        map = rep('0', span - 1) .. '1'
      end
      writes[size + 1], writes[size + 2], writes[size + 3], writes[size + 4] = latestFields[w], currentTexts[w], previousMapFields[w], sub(map, 1, bucketCount)
      writes[size + 5], writes[size + 6] = mapFields[w], sub(map, bucketCount + 1)
      size = size + 6
      if w == longest then refresh = true end
    elseif kind == LATE_DIFFERENCE or kind == LATE_SCAN then
      local position = span + moved
      if byte(map, position) ~= 49 then
        if position > bucketCount then
          position = position - bucketCount
          writes[size + 1], writes[size + 2] = mapFields[w], sub(windowMap, 1, position - 1) .. '1' .. sub(windowMap, position + 1)
        else
          writes[size + 1], writes[size + 2] = previousMapFields[w], sub(previousMap, 1, position - 1) .. '1' .. sub(previousMap, position + 1)
        end
        size = size + 2
      end
    end
  end
  if orphansChanged then
    if orphanCount == 0 then
      deleteSize = deleteSize + 1
      deletes[deleteSize] = 'O'
    else
      local entries = {}
      for o = 1, orphanCount do entries[o] = windowNames[orphanWindows[o]] .. ':' .. orphanBuckets[o] end
      writes[size + 1], writes[size + 2] = 'O', table.concat(entries, ',')
      size = size + 2
    end
  end
  local values = readSize > 0 and call('HMGET', key, unpack(reads, 1, readSize)) or nil
  for w = 1, windowCount do
    local h = 2 + (w - 1) * 7
    local kind, bucketCount = kinds[w], bucketCounts[w]
    local countTotal = tonumber(head[h + 4]) or 0
    local totalHi, totalLo = halvesOf(head[h + 5])
    local count, hi, lo = 1, amountHi, amountLo
    if kind == SAME then
      count, hi, lo = countTotal + 1, totalHi + amountHi, totalLo + amountLo
    elseif kind == MOVE then
      local start, buckets = readStarts[w], readBuckets[w]
      if allCodes then
        for b = start, start + (buckets - 1) * stride, stride do count = count - (tonumber(values[b]) or 0) end
        count = count + countTotal
        for c = 1, #codes do
          local codeHi, codeLo = halvesOf(values[start + buckets * stride + c - 1])
          for b = start + c, start + (buckets - 1) * stride + c, stride do
            local bucketHi, bucketLo = halvesOf(values[b])
            codeHi, codeLo = codeHi - bucketHi, codeLo - bucketLo
          end
          if c == own then hi, lo = codeHi + amountHi, codeLo + amountLo
          else
            writes[size + 1], writes[size + 2] = totalPrefixes[w] .. codes[c], decimal(codeHi, codeLo)
            size = size + 2
          end
        end
      else
        local leavingCount, leavingHi, leavingLo = sumOwn(values, start, buckets)
        count, hi, lo = countTotal - leavingCount + 1, totalHi - leavingHi + amountHi, totalLo - leavingLo + amountLo
      end
    elseif kind == RESET then
      if allCodes then
        for c = 1, #codes do
          if c ~= own then
            writes[size + 1], writes[size + 2] = totalPrefixes[w] .. codes[c], '0'
            size = size + 2
          end
        end
      end
    elseif kind == LATE_DIFFERENCE then
      local laterCount, laterHi, laterLo = sumOwn(values, readStarts[w], readBuckets[w])
      local earlierCount, earlierHi, earlierLo = sumOwn(values, readStarts[w] + 2 * readBuckets[w], moreBuckets[w])
      count = countTotal - laterCount + earlierCount + 1
      hi, lo = totalHi - laterHi + earlierHi + amountHi, totalLo - laterLo + earlierLo + amountLo
    else
      local earlierCount, earlierHi, earlierLo = sumOwn(values, readStarts[w], readBuckets[w])
      local bucketHi, bucketLo = halvesOf(head[h + 7])
      count = earlierCount + (tonumber(head[h + 6]) or 0) + 1
      hi, lo = earlierHi + bucketHi + amountHi, earlierLo + bucketLo + amountLo
    end
    if kind ~= UNSTORED then
      -- This payment's bucket; and the totals, unless it is late and before their window.
      if kind == RESET or kind == MOVE then
        writes[size + 1], writes[size + 2], writes[size + 3], writes[size + 4] = headFields[h + 6], '1', headFields[h + 7], amountText
      else
        local bucketHi, bucketLo = halvesOf(head[h + 7])
        writes[size + 1], writes[size + 2] = headFields[h + 6], format('%d', (tonumber(head[h + 6]) or 0) + 1)
        writes[size + 3], writes[size + 4] = headFields[h + 7], decimal(bucketHi + amountHi, bucketLo + amountLo)
      end
      size = size + 4
      if kind <= RESET then
        writes[size + 1], writes[size + 2], writes[size + 3], writes[size + 4] = headFields[h + 4], format('%d', count), headFields[h + 5], decimal(hi, lo)
        size = size + 4
      elseif inTotals[w] then
        writes[size + 1], writes[size + 2] = headFields[h + 4], format('%d', countTotal + 1)
        writes[size + 3], writes[size + 4] = headFields[h + 5], decimal(totalHi + amountHi, totalLo + amountLo)
        size = size + 4
      end
    end
    hi, lo = normalised(hi, lo)
    reply[n + 1], reply[n + 2], reply[n + 3] = count, hi, lo
    n = n + 3
  end
  if size > 0 then call('HSET', key, unpack(writes, 1, size)) end
  if deleteSize > 0 then call('HDEL', key, unpack(deletes, 1, deleteSize)) end
  if refresh then call('PEXPIRE', key, '${VELOCITY_TTL_MS}') end
end

for e = 1, 5 do
  n = n + 1
  if byte(present, e) == 49 then
    reply[n] = '1'
    velocity(KEYS[1 + e])
  else
    reply[n] = '0'
  end
end

-- Distinct cards per device and per IP. Without a card to record, an empty set needs no pruning.
for c = 0, 1 do
  local key = KEYS[7 + c]
  if byte(present, 3 + c) == 49 then
    local cards
    if card ~= '' then
      call('ZADD', key, 'GT', ARGV[1], card)
      cards = -1
    else
      cards = call('ZCARD', key)
    end
    reply[n + 1] = '1'
    if cards == 0 then
      reply[n + 2], reply[n + 3] = 0, 0
    else
      call('ZREMRANGEBYSCORE', key, '-inf', format(timeFormat, t - ${DISTINCT_CARD_WINDOWS_MS['24h']}))
      cards = call('ZCARD', key)
      if cards > ${MAX_CARDS_PER_KEY} then
        call('ZREMRANGEBYRANK', key, '0', '${-(MAX_CARDS_PER_KEY + 1)}')
        cards = ${MAX_CARDS_PER_KEY}
      end
      call('PEXPIRE', key, '${DISTINCT_CARD_WINDOWS_MS['24h'] + DISTINCT_CARD_WINDOWS_MS['1h']}')
      reply[n + 2], reply[n + 3] = call('ZCOUNT', key, '(' .. format(timeFormat, t - ${DISTINCT_CARD_WINDOWS_MS['1h']}), '+inf'), cards
    end
  else
    reply[n + 1], reply[n + 2], reply[n + 3] = '0', 0, 0
  end
  n = n + 3
end

-- First seen: read and kept for another TTL in one call; written when this payment is earlier.
local firstSeen = call('GETEX', KEYS[10], 'PX', '${PROFILE_TTL_MS}')
if not firstSeen or t < tonumber(firstSeen) then
  firstSeen = format(timeFormat, t)
  call('SET', KEYS[10], firstSeen, 'PX', '${PROFILE_TTL_MS}')
end
n = n + 1
reply[n] = firstSeen

n = n + 1
if device ~= '' then
  local known = call('ZSCORE', KEYS[11], device)
  -- Only a device added can take the set past its bound.
  if call('ZADD', KEYS[11], 'LT', ARGV[1], device) > 0 then call('ZREMRANGEBYRANK', KEYS[11], '0', '${-(MAX_DEVICES_PER_PAYER + 1)}') end
  call('PEXPIRE', KEYS[11], '${PROFILE_TTL_MS}')
  if (not known) or tonumber(known) >= t then reply[n] = '1' else reply[n] = '0' end
else
  reply[n] = '-1'
end

local history = call('LRANGE', KEYS[9], '0', '${PAYER_HISTORY_LENGTH - 1}')
-- Only a list past its length needs trimming.
if call('LPUSH', KEYS[9], historyAmount) > ${PAYER_HISTORY_LENGTH} then call('LTRIM', KEYS[9], '0', '${PAYER_HISTORY_LENGTH - 1}') end
call('PEXPIRE', KEYS[9], '${HISTORY_TTL_MS}')
for index = 1, #history do reply[n + index] = history[index] end

call('SET', KEYS[1], cmsgpack.pack(reply), 'PX', '${SEEN_TTL_MS}')
return reply
`;

/** The script's reply: strings, and whole numbers (counts, amounts' halves) as Redis integers. */
type ScriptReply = (string | number)[];
type ObserveCommand = (...keysAndArgs: (string | number)[]) => Promise<ScriptReply>;
type ReplyCallback = (error: Error | null | undefined, reply?: ScriptReply) => void;
type PipelinedObserveCommand = (...keysArgsAndCallback: (string | number | ReplyCallback)[]) => unknown;

/** Where a key for an entity the payment does not name points; the script never touches it. */
const ABSENT = 'risk:absent';


/** Risk's features in Redis; see SCRIPT for the layout and InMemoryFeatureStore for the semantics. */
export class RedisFeatureStore {
  private readonly observeCommand: ObserveCommand;

  /** `prefix` keeps tests apart from each other and from a running service. */
  constructor(private readonly redis: Redis, private readonly prefix = 'risk') {
    if (!(redis as unknown as Record<string, unknown>)['riskObservePayment']) redis.defineCommand('riskObservePayment', { numberOfKeys: 11, lua: SCRIPT });
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
    const keys = [
      `${this.prefix}:seen:${payment.paymentId}`,
      ...VELOCITY_ENTITIES.map((entity) => {
        const id = ids[entity];
        return id === undefined ? ABSENT : `${this.prefix}:velocity:${entity}:${id}`;
      }),
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
      payment.cardFingerprint ?? '', payment.deviceId ?? '',
    ];
  }
}

/** Reads the script's reply (see SCRIPT for its order) into features. */
export function parseReply(reply: readonly (string | number)[], requestedAtMs: number): RiskFeatures {
  let position = 1;
  const next = (): string | number => {
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
