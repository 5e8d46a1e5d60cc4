-- Add or refresh one presence entry. Each entry has its own deadline, so the
-- entries of a node that died vanish after the TTL while the others stay.
--
-- KEYS[1] presence hash (client -> info)   KEYS[2] deadlines zset (client -> ms)
-- ARGV[1] client   ARGV[2] packed info   ARGV[3] ttl (ms)
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ms + tonumber(ARGV[3]), ARGV[1])
-- Both keys live as long as their longest-lived entry.
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], last[2])
redis.call('PEXPIREAT', KEYS[2], last[2])
return 1
