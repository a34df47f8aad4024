-- One change to one subscription, checked and applied inside Redis. The CLI reads a subscription to show it and to
-- decide what to do, but never writes back what it read: it names the fields it changes and the values other fields
-- must still hold, so two admins (or two scripts) acting at once can never lose each other's change, undo a
-- suspension or bring a revoked subscription back. One key: the same on a clustered Redis.
--
-- KEYS[1]  the subscription hash, aigate:v1:sub:{<id>}
-- ARGV[1]  create  the hash must not exist yet
--          update  the hash must exist
--          delete  the hash must exist; it is removed
-- ARGV[2]  n, the number of guards, followed by n pairs (field, expected): the field must now hold exactly
--          expected (a missing field holds ""), or, when expected starts with "!", anything but the rest of it
-- then     pairs (field, value) to write (create and update only)
--
-- Returns {outcome, hash}: outcome is "ok", "exists", "missing", or the field of the first guard that failed, and
-- then nothing was written; hash is the subscription as it is after the call (as it was, for delete) as a flat
-- field/value list, empty when there is none.
local key = KEYS[1]
local mode = ARGV[1]
local present = redis.call('EXISTS', key) == 1
if mode == 'create' and present then
  return {'exists', redis.call('HGETALL', key)}
end
if mode ~= 'create' and not present then
  return {'missing', {}}
end
local guards = tonumber(ARGV[2])
local i = 3
for _ = 1, guards do
  local field, expected = ARGV[i], ARGV[i + 1]
  local actual = redis.call('HGET', key, field) or ''
  local holds
  if string.sub(expected, 1, 1) == '!' then
    holds = actual ~= string.sub(expected, 2)
  else
    holds = actual == expected
  end
  if not holds then
    return {field, redis.call('HGETALL', key)}
  end
  i = i + 2
end
if mode == 'delete' then
  local before = redis.call('HGETALL', key)
  redis.call('DEL', key)
  return {'ok', before}
end
if i <= #ARGV then
  redis.call('HSET', key, unpack(ARGV, i))
end
return {'ok', redis.call('HGETALL', key)}
