-- The live presence entries of a channel; expired ones are removed on the way.
--
-- KEYS[1] presence hash (client -> info)   KEYS[2] deadlines zset (client -> ms)
-- Returns the packed infos.
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local dead = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ms)
for i = 1, #dead, 500 do
  local batch = {unpack(dead, i, math.min(i + 499, #dead))}
  redis.call('HDEL', KEYS[1], unpack(batch))
  redis.call('ZREM', KEYS[2], unpack(batch))
end
return redis.call('HVALS', KEYS[1])
