#!lua name=aigate
-- aigate's budget logic as a Redis 7 function library, loaded by the key administrators with
-- `aigate keys install-functions` (never by a sidecar). A sidecar's Redis user may call aigate_token_limit_v1 and
-- nothing else that changes a budget: the budgets live under key names that end in this installation's secret
-- (below), and only a selector naming that secret lets the sidecar's user write them. Redis checks the commands a
-- function runs against its caller's rules, so the function needs that selector too; a sidecar that does not know
-- the secret cannot name a budget key, so it can only move a budget through this code.
--
-- The function trusts nothing a caller passes that it can know itself: the time is Redis's own (TIME), the key is
-- checked for its shape, every number for its range, a quota window must hold now (or have just ended, for a late
-- settlement), a refund never exceeds what is still reserved, and a stored drain time never lies in the future.
--
-- The sidecar's half of the contract (the arguments) is io.aigate.tokens.RedisTokenBudget; a change to it gets a new
-- function name (…_v2) beside this one, so sidecars of both versions keep working while they roll.

local VERSION = 1
local SECRET = '@SECRET@'
-- true only where the administrators installed the library for a test clock (`--trust-sidecar-clock`)
local SIDECAR_CLOCK = @SIDECAR_CLOCK@

local PREFIX = 'aigate:v1:limit:'
-- one request never costs more (io.aigate.tokens.TokenBudget.MAX_USAGE); no limit is larger than a million times that
local MAX_TOKENS = 2147483647
local MAX_LIMIT = 2147483647000000
-- settlements one call may carry: bounded work per call
local MAX_SETTLEMENTS = 512
-- a quota window's key outlives its window by this much, so a late settlement still finds it
local GRACE_MS = 3600000

local function integer(text, low, high)
  if type(text) ~= 'string' or #text > 17 or not string.match(text, '^%-?%d+$') then
    return nil
  end
  local n = tonumber(text)
  if n < low or n > high then
    return nil
  end
  return n
end

-- days since 1970-01-01 of a civil date, and back (proleptic Gregorian, UTC)
local function days(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local doy = math.floor((153 * ((m + 9) % 12) + 2) / 5) + d - 1
  return era * 146097 + yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy - 719468
end

local function civil(z)
  z = z + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400
  if m <= 2 then y = y + 1 end
  return y, m
end

-- the UTC window of a period holding a moment (seconds): its start and its end; weeks start on Monday
local function window(period, s)
  local day = math.floor(s / 86400)
  if period == 'Hourly' then
    local start = s - s % 3600
    return start, start + 3600
  elseif period == 'Daily' then
    return day * 86400, day * 86400 + 86400
  elseif period == 'Weekly' then
    local monday = day - (day + 3) % 7
    return monday * 86400, monday * 86400 + 604800
  end
  local y, m = civil(day)
  if period == 'Monthly' then
    local ny, nm = y, m + 1
    if nm > 12 then ny, nm = y + 1, 1 end
    return days(y, m, 1) * 86400, days(ny, nm, 1) * 86400
  elseif period == 'Yearly' then
    return days(y, 1, 1) * 86400, days(y + 1, 1, 1) * 86400
  end
  return nil
end

local function refuse(why)
  return redis.error_reply('ERR aigate_token_limit_v1: ' .. why)
end

-- KEYS[1]  aigate:v1:limit:{<counter>}: names the counter (and its hash slot); the function keeps the counter's
--          rate bucket and quota windows under it, in keys that end in the secret
-- ARGV[1]  'admit' (settle what is carried, then refuse or reserve) | 'settle' (only settle what is carried)
-- ARGV[2]  the sidecar's time, epoch ms: read only where the library was installed to trust it (tests)
-- ARGV[3]  tokens per minute, 0 when there is no rate limit
-- ARGV[4]  admit: the tokens to reserve
-- ARGV[5]  token quota of the window, 0 when there is no quota
-- ARGV[6]  the quota period (Hourly … Yearly), or none
-- ARGV[7]  start (epoch s) of the quota window the carried settlements were admitted in
-- ARGV[8.. in threes]  settlements of earlier holds: the correction (negative gives tokens back), when the hold was
--          taken (epoch ms), the tokens held
--
-- Returns {verdict, retry-after seconds, tokens left in the bucket, tokens left in the quota}
-- verdict: 0 admitted / settled, 1 over the rate, 2 over the quota
local function token_limit(keys, args)
  if #keys ~= 1 then
    return refuse('one key, the counter')
  end
  local tag = string.match(keys[1], '^aigate:v1:limit:{([^{}%s%c]+)}$')
  if tag == nil or #tag > 200 then
    return refuse('the key must be aigate:v1:limit:{<counter>}')
  end
  local op = args[1]
  if op ~= 'admit' and op ~= 'settle' then
    return refuse('the operation must be admit or settle')
  end
  local tpm = integer(args[3], 0, MAX_LIMIT)
  local tokens = integer(args[4], 0, MAX_TOKENS)
  local quota = integer(args[5], 0, MAX_LIMIT)
  if tpm == nil or tokens == nil or quota == nil then
    return refuse('limits and tokens must be whole numbers in range')
  end
  local period = args[6]
  if quota > 0 and window(period, 0) == nil then
    return refuse('the quota period must be Hourly, Daily, Weekly, Monthly or Yearly')
  end
  local carried = #args - 7
  if carried < 0 or carried % 3 ~= 0 or carried / 3 > MAX_SETTLEMENTS then
    return refuse('settlements come in threes, at most ' .. MAX_SETTLEMENTS)
  end

  local now
  if SIDECAR_CLOCK then
    now = integer(args[2], 0, 253402300799999)
    if now == nil then
      return refuse('the time must be epoch milliseconds')
    end
  else
    local time = redis.call('TIME')
    now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  end
  local base = PREFIX .. '{' .. tag .. '}:'
  local rateKey = base .. 'rate:' .. SECRET

  -- the bucket leaks continuously at tpm/60000 tokens per ms: there is no minute that resets. A drain time in the
  -- future (a clock that ran back, a failover to a node whose clock is behind) counts as now.
  local level, last, rateHeld = 0, now, 0
  if tpm > 0 then
    local bucket = redis.call('HMGET', rateKey, 'l', 't', 'o')
    level = math.max(0, tonumber(bucket[1]) or 0)
    last = math.min(now, tonumber(bucket[2]) or now)
    rateHeld = math.max(0, tonumber(bucket[3]) or 0)
    level = math.max(0, level - (now - last) * tpm / 60000)
    rateHeld = math.min(rateHeld, level)
  end

  -- a quota window: the one holding now, or the one the settlements were admitted in, if it ended within the grace
  local quotas = {}
  local function quotaWindow(start)
    local q = quotas[start]
    if q == nil then
      local _, finish = window(period, start)
      local key = base .. 'quota:' .. period .. ':' .. start .. ':' .. SECRET
      local stored = redis.call('HMGET', key, 'u', 'o')
      q = {key = key, finish = finish, used = math.max(0, tonumber(stored[1]) or 0),
           held = math.max(0, tonumber(stored[2]) or 0), changed = false}
      quotas[start] = q
    end
    return q
  end
  local current
  if quota > 0 then
    current = quotaWindow(window(period, math.floor(now / 1000)))
  end

  local settledQuota
  if carried > 0 and quota > 0 then
    local start = integer(args[7], 0, math.floor(now / 1000))
    if start == nil or window(period, start) ~= start or window(period, start) == nil then
      return refuse('the settlements window must be the start of a quota window')
    end
    local _, finish = window(period, start)
    if finish * 1000 + GRACE_MS > now then
      settledQuota = quotaWindow(start)
    end
  end

  -- settlements, each on its own hold: a refund never exceeds that hold, nor what is still reserved on the counter
  -- (what the function itself put there and no settlement has taken back), nor in the bucket what is left of the
  -- hold once it drained
  local settled = false
  for i = 8, #args, 3 do
    local held = integer(args[i + 2], 0, MAX_TOKENS)
    local correction = integer(args[i], -MAX_TOKENS, MAX_TOKENS)
    local heldAt = integer(args[i + 1], 0, 253402300799999)
    if held == nil or correction == nil or heldAt == nil then
      return refuse('a settlement is three whole numbers in range')
    end
    correction = math.max(correction, -held)
    heldAt = math.min(heldAt, now)
    if tpm > 0 then
      local rate = correction
      if correction < 0 then
        local left = math.max(0, held - (now - heldAt) * tpm / 60000)
        rate = -math.min(-correction, left, rateHeld)
      end
      level = math.max(0, level + rate)
      rateHeld = math.max(0, rateHeld - held)
    end
    if settledQuota ~= nil then
      local q = settledQuota
      local amount = correction
      if correction < 0 then
        amount = -math.min(-correction, q.held)
      end
      q.used = math.max(0, q.used + amount)
      q.held = math.max(0, q.held - held)
      q.changed = true
    end
    settled = true
  end

  local function write()
    if tpm > 0 and (settled or op == 'admit') then
      redis.call('HSET', rateKey, 'l', string.format('%.17g', level), 't', string.format('%.0f', now),
        'o', string.format('%.17g', rateHeld))
      -- an idle bucket empties itself: the key goes when it would have drained
      redis.call('PEXPIRE', rateKey, math.ceil(level * 60000 / tpm) + 1000)
    end
    for _, q in pairs(quotas) do
      if q.changed then
        redis.call('HSET', q.key, 'u', string.format('%.0f', q.used), 'o', string.format('%.0f', q.held))
        redis.call('PEXPIRE', q.key, math.max(1, q.finish * 1000 + GRACE_MS - now))
      end
    end
  end

  local quotaLeft = 0
  if current ~= nil then
    quotaLeft = math.max(0, quota - current.used)
  end
  if op == 'admit' then
    -- a spent quota refuses until its window ends; a reservation may overshoot it once, never twice
    if current ~= nil and current.used >= quota then
      write()
      return {2, 0, math.floor(math.max(0, tpm - level)), 0}
    end
    -- the reservation must fit in the bucket; one larger than the whole bucket waits for an empty one
    if tpm > 0 and level > 0 and level + tokens > tpm then
      write()
      local wait = (level - math.max(0, tpm - tokens)) * 60000 / tpm
      return {1, math.ceil(wait / 1000), math.floor(math.max(0, tpm - level)), quotaLeft}
    end
    if tpm > 0 then
      level = level + tokens
      rateHeld = rateHeld + tokens
    end
    if current ~= nil and tokens > 0 then
      current.used = current.used + tokens
      current.held = current.held + tokens
      current.changed = true
      quotaLeft = math.max(0, quota - current.used)
    end
  end
  write()
  return {0, 0, math.floor(math.max(0, tpm - level)), quotaLeft}
end

redis.register_function('aigate_token_limit_v1', token_limit)
redis.register_function{
  function_name = 'aigate_version',
  callback = function() return VERSION end,
  flags = {'no-writes'}
}
