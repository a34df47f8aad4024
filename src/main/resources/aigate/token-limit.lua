-- aigate llm-token-limit: one atomic step on one counter's rate bucket and quota window.
-- Both keys carry the counter's {hash tag}, so on a clustered Redis they live in one slot.
--
-- KEYS[1]  rate bucket, HASH l = tokens in the bucket, t = when it was last drained (ms)
-- KEYS[2]  quota window, STRING tokens used in the current UTC window
-- ARGV[1]  'admit' (settle what is carried, then refuse or reserve) | 'settle' (only settle what is carried)
-- ARGV[2]  now, epoch ms (the instance's clock; a clock that runs back is treated as standing still)
-- ARGV[3]  tokens per minute, 0 when there is no rate limit
-- ARGV[4]  admit: the tokens to reserve
-- ARGV[5]  token quota of the window, 0 when there is no quota
-- ARGV[6]  seconds the window key must outlive the window's end
-- ARGV[7.. in threes]  settlements of earlier holds in this window: the correction (negative gives tokens back),
--          when the hold was taken (epoch ms), the tokens held. An instance carries the settlements of a counter
--          on its next admission of that counter, so a busy counter costs one call per request, not two.
--
-- Returns {verdict, retry-after seconds, tokens left in the bucket, tokens left in the quota}
-- verdict: 0 admitted / settled, 1 over the rate, 2 over the quota
local now = tonumber(ARGV[2])
local tpm = tonumber(ARGV[3])
local quota = tonumber(ARGV[5])

-- the bucket leaks continuously at tpm/60000 tokens per ms: there is no minute that resets
local level = 0
local last = now
if tpm > 0 then
  local bucket = redis.call('HMGET', KEYS[1], 'l', 't')
  level = tonumber(bucket[1]) or 0
  last = tonumber(bucket[2]) or now
  if now > last then
    level = math.max(0, level - (now - last) * tpm / 60000)
    last = now
  end
end
local used = 0
if quota > 0 then
  used = tonumber(redis.call('GET', KEYS[2]) or '0')
end

local function write(quotaChanged)
  if tpm > 0 then
    redis.call('HSET', KEYS[1], 'l', tostring(level), 't', tostring(last))
    -- an idle bucket empties itself: the key goes when it would have drained
    redis.call('PEXPIRE', KEYS[1], math.ceil(level * 60000 / tpm) + 1000)
  end
  if quota > 0 and quotaChanged then
    redis.call('SET', KEYS[2], tostring(used), 'EX', tonumber(ARGV[6]))
  end
end

-- settlements first, each on its own hold: it never gives back more than that hold, and in the bucket no more than
-- what is left of it (it has drained since it was taken; whatever is above that belongs to other requests)
local settled = false
local quotaChanged = false
for i = 7, #ARGV - 2, 3 do
  local held = math.max(0, tonumber(ARGV[i + 2]) or 0)
  local amount = math.max(tonumber(ARGV[i]) or 0, -held)
  local rateAmount = amount
  if amount < 0 and tpm > 0 then
    local drained = math.max(0, now - (tonumber(ARGV[i + 1]) or now)) * tpm / 60000
    rateAmount = math.max(amount, -math.max(0, held - drained))
  end
  level = math.max(0, level + rateAmount)
  if quota > 0 and amount ~= 0 then
    used = math.max(0, used + amount)
    quotaChanged = true
  end
  settled = true
end

if ARGV[1] == 'admit' then
  -- an admission never takes tokens out
  local amount = math.max(0, tonumber(ARGV[4]) or 0)
  -- a spent quota refuses until its window ends; a reservation may overshoot it once, never twice
  if quota > 0 and used >= quota then
    if settled then write(quotaChanged) end
    return {2, 0, math.floor(math.max(0, tpm - level)), 0}
  end
  -- the reservation must fit in the bucket; one larger than the whole bucket waits for an empty one
  if tpm > 0 and level > 0 and level + amount > tpm then
    if settled then write(quotaChanged) end
    local wait = (level - math.max(0, tpm - amount)) * 60000 / tpm
    return {1, math.ceil(wait / 1000), math.floor(math.max(0, tpm - level)), math.max(0, quota - used)}
  end
  level = level + amount
  if quota > 0 and amount ~= 0 then
    used = used + amount
    quotaChanged = true
  end
  write(quotaChanged)
elseif settled then
  write(quotaChanged)
end
return {0, 0, math.floor(math.max(0, tpm - level)), math.max(0, quota - used)}
