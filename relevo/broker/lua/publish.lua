-- Append a publication to a channel's stream and publish it, atomically, so
-- every node sees offsets in the order they were given and none is skipped.
--
-- KEYS[1] meta hash (e = epoch, o = last offset)   KEYS[2] stream
-- KEYS[3] idempotency key (absent: the publication has none)
-- ARGV[1] pub/sub channel   ARGV[2] message head   ARGV[3] message tail
-- ARGV[4] history size   ARGV[5] history ttl (ms)   ARGV[6] meta ttl (ms)
-- ARGV[7] epoch to start if the channel has none
-- ARGV[8] idempotency window (ms)
-- Returns {offset, epoch, ts}: of this publication, or of the first one that
-- carried the same idempotency key within the window (then nothing is stored
-- or published).
if KEYS[3] then
  local seen = redis.call('GET', KEYS[3])
  if seen then
    local offset, epoch, ts = string.match(seen, '^(%d+):([^:]*):(%d+)$')
    return {tonumber(offset), epoch, tonumber(ts)}
  end
end
-- The replication id of this server: a replica promoted by a failover (or
-- a slot moved to another Cluster node) has a new one. Replication is
-- asynchronous, so such a server may lack the last publications the old one
-- acknowledged; its offsets must not count on from there (clients would take
-- the new publications for ones they have seen): the channel starts a new
-- epoch, and clients recovering across it are told recovered: false.
-- '' where INFO is refused or has no replication id (some hosted Redis):
-- failovers then go unnoticed there, as before this check.
local info = redis.pcall('INFO', 'replication')
local gen = type(info) == 'string' and string.match(info, 'master_replid:(%x+)') or ''
local meta = redis.call('HMGET', KEYS[1], 'e', 'g')
local epoch = meta[1]
if epoch and meta[2] and meta[2] ~= gen then
  epoch = false
end
if not epoch then
  -- A new channel, or one whose meta was lost (expired, flushed, evicted,
  -- or written by another server): a new epoch, nothing left of the old one.
  epoch = ARGV[7]
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'e', epoch, 'o', 0, 'g', gen)
elseif not meta[2] then
  redis.call('HSET', KEYS[1], 'g', gen)  -- meta of a relevo before generations
end
local offset = redis.call('HINCRBY', KEYS[1], 'o', 1)
local now = redis.call('TIME')
local ts = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
-- The message is [0, channel, offset, epoch, ts, event, data]: Python packed
-- the head (array header, tag, channel) and the tail (event, data).
local msg = ARGV[2] .. cmsgpack.pack(offset, epoch, ts) .. ARGV[3]
if tonumber(ARGV[4]) > 0 then
  redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[4], offset .. '-0', 't', ts, 'p', msg)
  redis.call('PEXPIRE', KEYS[2], ARGV[5])
else
  redis.call('DEL', KEYS[2])
end
redis.call('PEXPIRE', KEYS[1], ARGV[6])
if KEYS[3] then
  redis.call('SET', KEYS[3], offset .. ':' .. epoch .. ':' .. ts, 'PX', ARGV[8])
end
redis.call('PUBLISH', ARGV[1], msg)
return {offset, epoch, ts}
