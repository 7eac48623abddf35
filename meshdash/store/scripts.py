"""Lua scripts the store runs inside Redis, where a step must be atomic or would otherwise
cost a round trip per key. Each is loaded once and called by its SHA (redis-py reloads it
after a Redis restart).

The scripts read the key registry of a version to find its keys, which standalone Redis
allows; meshdash does not run on Redis Cluster.
"""

from meshdash.store.layout import SEARCH_BUCKET

# Write part of a new version's key and (re)set its expiry in one atomic step.
# KEYS: the key.  ARGV: expiry ms, command (HSET, ZADD, SADD), then the command's arguments.
CREATE = """
redis.call(ARGV[2], KEYS[1], unpack(ARGV, 3))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
"""

# Add comma-separated numbers to a set (SADD) or to a sorted set (ZADD), scored by their
# position counted from ARGV[4], and (re)set its expiry.
# KEYS: the key.  ARGV: expiry ms, SADD or ZADD, the numbers (at most a thousand), first score.
CREATE_NUMBERS = """
local command, score = ARGV[2], tonumber(ARGV[4])
local batch, n = {}, 0
for number in string.gmatch(ARGV[3], '%d+') do
  if command == 'ZADD' then
    batch[n + 1] = score
    score = score + 1
    n = n + 1
  end
  batch[n + 1] = number
  n = n + 1
end
redis.call(command, KEYS[1], unpack(batch, 1, n))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
"""

# Switch a window to a new version, atomically: refuse when any of its keys is missing (a
# write that did not finish), keep the new version's keys for good, let the replaced version's
# keys expire, clear the failure mark.
# KEYS: current pointer, failure mark, new version's key registry.
# ARGV: new version, ms the replaced version stays readable, registry key prefix and suffix.
SWITCH = """
local keys = redis.call('SMEMBERS', KEYS[3])
if #keys == 0 then
  return redis.error_reply('meshdash: the new version has no key registry')
end
for _, key in ipairs(keys) do
  if redis.call('EXISTS', key) == 0 then
    return redis.error_reply('meshdash: the new version is incomplete, missing ' .. key)
  end
end
for _, key in ipairs(keys) do
  redis.call('PERSIST', key)
end
redis.call('PERSIST', KEYS[3])
local old = redis.call('GET', KEYS[1])
if old and old ~= ARGV[1] then
  local old_registry = ARGV[3] .. old .. ARGV[4]
  for _, key in ipairs(redis.call('SMEMBERS', old_registry)) do
    redis.call('PEXPIRE', key, ARGV[2])
  end
  redis.call('PEXPIRE', old_registry, ARGV[2])
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
return old
"""

# One page of workloads. Unfiltered, the page is a range of the sort key's sorted set.
# Filtered, the sorted set is intersected with the filter sets into a temporary key, deleted
# with every other temporary key before the script returns: a view leaves nothing behind in
# this Redis (caching it is the caller's choice, bounded: ``SnapshotStore._read_page``).
# A name search builds no set: the names blob is scanned for the needle (from one occurrence
# to the next, a plain find in C), the matches' positions in the order (or in the filters'
# intersection) are read with ZMSCORE, counted into buckets of SEARCH_BUCKET positions, and
# only the buckets that hold the page are sorted. Its cost is the scan and one score lookup
# per match, not a sorted set built of every match (a fifth to a tenth of that).
# A one-letter search (ARGV[6], the letter's index in layout.SEARCH_ALPHABET) reads the
# letter's index instead (layout.search_values) where that costs less than the scan: alone,
# its counts per bucket of the order give the total and the buckets that hold the page, and
# only those buckets' workloads are read and tested against the letter's bitmap; with filters,
# the intersection's workloads are tested against the bitmap, in order, or with one filter
# of layout.PRECOMPUTED_FILTERS (ARGV[7] '1') its packed order's (KEYS[8], for the set),
# no intersection built.
# KEYS: sort zset, rows hash, result key (the sort zset when unfiltered), names blob, the
#       order's letter counts, the letter bitmaps, namespace union, then ARGV[3] namespace
#       sets, then the other filter sets.
# ARGV: page, per page, number of namespace sets, lowercased search ('' for none), '1' to
#       also return the whole order packed (codec.pack_order), '0' not to, the letter's index
#       (-1: none), '1' when KEYS[8] is a packed order ('0' else).
# Returns: total, clamped page, the packed order or false, then the page's rows; -1 alone
# when the letter's index (or the packed order) was asked for and the version has none.
PAGE = """
local sorted, rows, result = KEYS[1], KEYS[2], KEYS[3]
local page, per_page = tonumber(ARGV[1]), tonumber(ARGV[2])
local namespaces, needle, want_order = tonumber(ARGV[3]), ARGV[4], ARGV[5] == '1'
local letter, packed_filter = tonumber(ARGV[6]), ARGV[7] == '1'
local temporary = {}
local base = sorted
if result ~= sorted and not packed_filter and (namespaces > 0 or #KEYS > 7) then
  local inputs = {sorted}
  if namespaces == 1 then
    table.insert(inputs, KEYS[8])
  elseif namespaces > 1 then
    redis.call('SUNIONSTORE', KEYS[7], unpack(KEYS, 8, 7 + namespaces))
    table.insert(temporary, KEYS[7])
    table.insert(inputs, KEYS[7])
  end
  for i = 8 + namespaces, #KEYS do
    table.insert(inputs, KEYS[i])
  end
  local args = {'ZINTERSTORE', result, #inputs}
  for _, key in ipairs(inputs) do
    table.insert(args, key)
  end
  table.insert(args, 'WEIGHTS')
  table.insert(args, 1)
  for _ = 2, #inputs do
    table.insert(args, 0)
  end
  redis.call(unpack(args))
  table.insert(temporary, result)
  base = result
end
local function finish(out)
  if #temporary > 0 then
    redis.call('DEL', unpack(temporary))
  end
  return out
end
local function clamp(total)
  local pages = math.max(1, math.ceil(total / per_page))
  return math.min(math.max(1, page), pages)
end
local function with_rows(out, members)
  if #members > 0 then
    for _, row in ipairs(redis.call('HMGET', rows, unpack(members))) do
      table.insert(out, row)
    end
  end
  return out
end
local function packed_order(numbers)
  local packed = {'v'}
  for i, number in ipairs(numbers) do
    packed[i + 1] = struct.pack('<I4', tonumber(number))
  end
  return table.concat(packed)
end
if needle ~= '' and letter >= 0 then
  local listed = redis.call('ZCARD', sorted)
  local size = math.ceil(listed / 8)
  local bits, matches = '', 0
  if size > 0 then
    bits = redis.call('GETRANGE', KEYS[6], letter * size, (letter + 1) * size - 1)
    matches = redis.call('BITCOUNT', KEYS[6], letter * size, (letter + 1) * size - 1)
  end
  if #bits < size then
    if base == sorted then
      return {-1}
    end
    letter = -1
  else
    local function holds(number)
      local byte = string.byte(bits, math.floor(number / 8) + 1)
      return bit.band(byte, bit.lshift(1, number % 8)) ~= 0
    end
    -- What the scan would cost, in the index's units (a workload read and tested, about a
    -- third of a microsecond): 2.5 us a match, a nanosecond and a half a byte of names.
    local scan = 8 * matches + redis.call('STRLEN', KEYS[4]) / 200
    if base == sorted and not packed_filter then
      local buckets = math.ceil(listed / SEARCH_BUCKET)
      local row = ''
      if buckets > 0 then
        row = redis.call('GETRANGE', KEYS[5], letter * buckets * 2, (letter + 1) * buckets * 2 - 1)
      end
      if #row < buckets * 2 then
        return {-1}
      end
      local counts = {}
      for b = 1, buckets do
        counts[b] = struct.unpack('<I2', row, 2 * b - 1)
      end
      page = clamp(matches)
      -- The first bucket that holds the page, and the buckets with a match it spans.
      local skip = (page - 1) * per_page
      local first = 1
      while first <= buckets and skip >= counts[first] do
        skip = skip - counts[first]
        first = first + 1
      end
      local wanted, reads, b = skip + per_page, 0, first
      while b <= buckets and wanted > 0 do
        if counts[b] > 0 then
          reads = reads + 1
          wanted = wanted - counts[b]
        end
        b = b + 1
      end
      if reads * SEARCH_BUCKET <= scan then
        local members = {}
        b = first
        while b <= buckets and #members < per_page do
          if counts[b] > 0 then
            local start = (b - 1) * SEARCH_BUCKET
            local numbers = redis.call('ZRANGE', sorted, start, start + SEARCH_BUCKET - 1)
            for _, number in ipairs(numbers) do
              if holds(tonumber(number)) then
                if skip > 0 then
                  skip = skip - 1
                elseif #members < per_page then
                  members[#members + 1] = number
                end
              end
            end
          end
          b = b + 1
        end
        return finish(with_rows({matches, page, false}, members))
      end
    end
    local found = nil
    if packed_filter then
      local in_order = redis.call('GET', KEYS[8])
      if not in_order then
        return {-1}
      end
      found = {}
      for at = 1, #in_order - 3, 4 do
        local number = struct.unpack('<I4', in_order, at)
        if holds(number) then
          found[#found + 1] = number
        end
      end
    elseif base ~= sorted and redis.call('ZCARD', base) <= scan then
      found = {}
      for _, number in ipairs(redis.call('ZRANGE', base, 0, -1)) do
        if holds(tonumber(number)) then
          found[#found + 1] = number
        end
      end
    end
    if found then
      page = clamp(#found)
      local members = {}
      for i = (page - 1) * per_page + 1, math.min(#found, page * per_page) do
        members[#members + 1] = found[i]
      end
      return finish(with_rows({#found, page, want_order and packed_order(found)}, members))
    end
  end
end
if needle ~= '' then
  local blob = redis.call('GET', KEYS[4]) or ''
  -- The matching lines' numbers: from one occurrence of the needle to the next; each
  -- occurrence inside a name adds that line's number, then the search goes on after the
  -- line; one in the number or across lines is skipped. No Lua loop over bytes: each step
  -- is a find in C.
  local found = {}
  local at, size = 1, #needle
  while true do
    local hit = string.find(blob, needle, at, true)
    if not hit then
      break
    end
    -- The line's number: the first tab, digits and newline from the hit (a name may hold
    -- tabs and digits, never a newline); the hit counts when it ends before that tab and
    -- no newline lies between (else it began in the previous line's number).
    local tab, line_end, number = string.find(blob, '\\t(%d+)\\n', hit)
    if not tab then
      break
    end
    if hit + size <= tab and string.find(blob, '\\n', hit, true) == line_end then
      found[#found + 1] = number
      at = line_end + 1
    else
      at = hit + 1
    end
  end
  -- Each match's position in the order (false: not in the filters), bucketed; kept as
  -- one plain number, position * size + workload number: sorted without a comparator.
  local bucket_size = SEARCH_BUCKET
  local listed = redis.call('ZCARD', sorted)
  local scale = math.max(1, listed)
  local buckets, counts, total = {}, {}, 0
  for first = 1, #found, 1000 do
    local last = math.min(#found, first + 999)
    local scores = redis.call('ZMSCORE', base, unpack(found, first, last))
    for i = 1, last - first + 1 do
      local score = scores[i]
      if score then
        score = tonumber(score)
        local b = math.floor(score / bucket_size)
        local held = buckets[b]
        if not held then
          held = {}
          buckets[b] = held
          counts[b] = 0
        end
        held[#held + 1] = score * scale + tonumber(found[first + i - 1])
        counts[b] = counts[b] + 1
        total = total + 1
      end
    end
  end
  page = clamp(total)
  local last_bucket = math.floor(math.max(0, listed - 1) / bucket_size)
  local order = false
  if want_order then
    local packed = {'v'}
    for b = 0, last_bucket do
      local held = buckets[b]
      if held then
        table.sort(held)
        for _, entry in ipairs(held) do
          packed[#packed + 1] = struct.pack('<I4', entry % scale)
        end
      end
    end
    order = table.concat(packed)
  end
  -- The page: skip whole buckets before it, sort only those it spans.
  local skip = (page - 1) * per_page
  local members = {}
  for b = 0, last_bucket do
    if #members >= per_page then
      break
    end
    local held = buckets[b]
    if held then
      if skip >= counts[b] then
        skip = skip - counts[b]
      else
        if not want_order then
          table.sort(held)
        end
        for i = skip + 1, #held do
          if #members >= per_page then
            break
          end
          members[#members + 1] = held[i] % scale
        end
        skip = 0
      end
    end
  end
  return finish(with_rows({total, page, order}, members))
end
local total = redis.call('ZCARD', base)
page = clamp(total)
local start = (page - 1) * per_page
local order = false
if want_order and base ~= sorted then
  order = packed_order(redis.call('ZRANGE', base, 0, -1))
end
local members = redis.call('ZRANGE', base, start, start + per_page - 1)
return finish(with_rows({total, page, order}, members))
""".replace("SEARCH_BUCKET", str(SEARCH_BUCKET))

# One page of a list kept as packed orders (``codec.pack_numbers``: 4 bytes an item number per
# sort key and direction) rather than sorted sets: the pods and Services lists, longer than
# the workloads' and read less, at a sixtieth of the memory. Filtered, the view's members are
# the intersection of the filter sets (and the union of the namespace sets, and the name
# search), walked in the order's sequence in Lua.
# KEYS: packed order, rows hash, names blob, then ARGV[3] namespace sets, then the others.
# ARGV: page, per page, number of namespace sets, lowercased search ('' for none), '1' to
#       also return the view's whole order packed (with codec.ORDER_MARK), '0' not to.
# Returns: total, clamped page, the packed order or false, then the page's rows.
PACKED_PAGE = """
local page, per_page = tonumber(ARGV[1]), tonumber(ARGV[2])
local namespaces, needle, want_order = tonumber(ARGV[3]), ARGV[4], ARGV[5] == '1'
local numbers = {}
local filtered = #KEYS > 3 or needle ~= ''
if not filtered then
  -- Only the page's slice of the order.
  local total = math.floor(redis.call('STRLEN', KEYS[1]) / 4)
  page = math.min(math.max(1, page), math.max(1, math.ceil(total / per_page)))
  local start = (page - 1) * per_page * 4
  local slice = redis.call('GETRANGE', KEYS[1], start, start + per_page * 4 - 1)
  local out = {total, page, false}
  local members = {}
  for at = 1, #slice - 3, 4 do
    members[#members + 1] = struct.unpack('<I4', slice, at)
  end
  if #members > 0 then
    for _, row in ipairs(redis.call('HMGET', KEYS[2], unpack(members))) do
      table.insert(out, row)
    end
  end
  return out
else
  local blob = redis.call('GET', KEYS[1]) or ''
  local allowed = nil
  if namespaces > 0 then
    allowed = {}
    for i = 4, 3 + namespaces do
      for _, member in ipairs(redis.call('SMEMBERS', KEYS[i])) do
        allowed[member] = true
      end
    end
  end
  for i = 4 + namespaces, #KEYS do
    local kept = {}
    for _, member in ipairs(redis.call('SMEMBERS', KEYS[i])) do
      if allowed == nil or allowed[member] then
        kept[member] = true
      end
    end
    allowed = kept
  end
  if needle ~= '' then
    local found = {}
    local names = redis.call('GET', KEYS[3]) or ''
    for name, index in string.gmatch(names, '([^\\n]*)\\t(%d+)\\n') do
      if string.find(name, needle, 1, true) and (allowed == nil or allowed[index]) then
        found[index] = true
      end
    end
    allowed = found
  end
  for at = 1, #blob - 3, 4 do
    local number = struct.unpack('<I4', blob, at)
    if allowed[tostring(number)] then
      numbers[#numbers + 1] = number
    end
  end
end
local total = #numbers
local pages = math.max(1, math.ceil(total / per_page))
page = math.min(math.max(1, page), pages)
local order = false
if want_order and filtered then
  local packed = {'v'}
  for i, number in ipairs(numbers) do
    packed[i + 1] = struct.pack('<I4', number)
  end
  order = table.concat(packed)
end
local out = {total, page, order}
local members = {}
for i = (page - 1) * per_page + 1, math.min(total, page * per_page) do
  members[#members + 1] = numbers[i]
end
if #members > 0 then
  for _, row in ipairs(redis.call('HMGET', KEYS[2], unpack(members))) do
    table.insert(out, row)
  end
end
return out
"""

# One page of a cached view's order (codec.pack_order: "v", then 4 bytes a workload number).
# KEYS: the cached order.  ARGV: page, per page.
# Returns: false when not cached, else total, clamped page, the page's packed numbers.
CACHED_PAGE = """
local size = redis.call('STRLEN', KEYS[1])
if size == 0 then
  return false
end
local per_page = tonumber(ARGV[2])
local total = (size - 1) / 4
local page = math.min(math.max(1, tonumber(ARGV[1])), math.max(1, math.ceil(total / per_page)))
local start = 1 + (page - 1) * per_page * 4
return {total, page, redis.call('GETRANGE', KEYS[1], start, start + per_page * 4 - 1)}
"""

# Cache a view's packed order unless its version's budget of entries or bytes is spent. The
# budget expires with the last entry it admitted, and hits never extend an entry, so it
# counts every entry still alive.
# KEYS: the cached order, the version's budget hash.
# ARGV: packed order, ttl ms, most entries, most bytes, what this entry costs in bytes.
# Returns: 1 cached (or already there), 0 refused.
ADMIT = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 1
end
local entries = tonumber(redis.call('HGET', KEYS[2], 'entries') or '0')
local bytes = tonumber(redis.call('HGET', KEYS[2], 'bytes') or '0')
local cost = tonumber(ARGV[5])
if entries + 1 > tonumber(ARGV[3]) or bytes + cost > tonumber(ARGV[4]) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('HINCRBY', KEYS[2], 'entries', 1)
redis.call('HINCRBY', KEYS[2], 'bytes', cost)
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
"""

# A token bucket: take one token, refilled at ARGV[1] a second up to ARGV[2], by Redis's clock.
# KEYS: the bucket.  ARGV: tokens a second, most tokens.
# Returns: seconds to wait as text, "0" when a token was taken.
TAKE_TOKEN = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens),
           'at', string.format('%.6f', now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return string.format('%.3f', wait)
"""

# One item of a list by id (a workload, a Service), and with ARGV[2] == '1' what its page
# shows besides: the rows of each further key (a hash by the item's number), '' for none.
# KEYS: id -> index hash, rows, then the detail hashes.  ARGV: id, detail flag.
WORKLOAD = """
local index = redis.call('HGET', KEYS[1], ARGV[1])
if not index then
  return false
end
local out = {redis.call('HGET', KEYS[2], index)}
if ARGV[2] == '1' then
  for i = 3, #KEYS do
    out[i - 1] = redis.call('HGET', KEYS[i], index) or ''
  end
end
return out
"""

# Several workloads by id, in one call: each one's row, or false when the version has none.
# KEYS: id -> index hash, rows.  ARGV: workload ids (at least one).
WORKLOADS = """
local indexes = redis.call('HMGET', KEYS[1], unpack(ARGV))
local out = {}
for i = 1, #ARGV do
  out[i] = indexes[i] and redis.call('HGET', KEYS[2], indexes[i]) or false
end
return out
"""

# Per-workload history: a ring of fixed-size points (codec.HISTORY_POINT, the minute first),
# the point of minute m in slot m % slots. With ARGV[3] == '1' write each key's point into
# its minute's slot, over an earlier point of the same minute or the one of the minute a ring
# ago, and refresh the expiry: a few calls on short strings per key, never the whole ring
# copied into Lua. Returns each key's oldest point of the slots minutes ending at minute
# ARGV[1] (false when none).
# KEYS: history keys.  ARGV: minute, ttl ms, update flag, point size, slots, one point per key.
HISTORY = """
local minute, ttl, update = tonumber(ARGV[1]), ARGV[2], ARGV[3] == '1'
local size, slots = tonumber(ARGV[4]), tonumber(ARGV[5])
local oldest_kept = minute - slots + 1
-- A ring is created whole: a string grown slot by slot would keep spare room.
local empty = string.rep('\\0', size * slots)
local slot = (minute % slots) * size
local first = (oldest_kept % slots) * size
local out = {}
for i, key in ipairs(KEYS) do
  if update then
    redis.call('SET', key, empty, 'NX')
    redis.call('SETRANGE', key, slot, ARGV[5 + i])
    redis.call('PEXPIRE', key, ttl)
  end
  local point = redis.call('GETRANGE', key, first, first + size - 1)
  if #point == size and struct.unpack('<I4', point) == oldest_kept then
    out[i] = point
  else
    -- Less than a full ring of minutes: look through every slot.
    out[i] = false
    local ring = redis.call('GET', key)
    if ring then
      local oldest
      for at = 1, #ring - size + 1, size do
        local m = struct.unpack('<I4', ring, at)
        if m >= oldest_kept and m <= minute and (oldest == nil or m < oldest) then
          oldest = m
          out[i] = string.sub(ring, at, at + size - 1)
        end
      end
    end
  end
end
return out
"""

# Delete a lock only while it still holds the caller's token.
RELEASE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

# A window's meta in one round trip: its current version (unless given), that version's meta
# and the window's last failure. Every page reads it first.
# KEYS: the window's current key, its failure key. ARGV: the version keys' prefix, the version
# or ''.
# Returns: false without a current version, else {version, meta or false, failure or false}.
META = """
local version = ARGV[2]
if version == '' then
  version = redis.call('GET', KEYS[1])
  if not version then
    return false
  end
end
local meta = redis.call('GET', ARGV[1] .. version .. ':meta')
return {version, meta or false, redis.call('GET', KEYS[2]) or false}
"""
