-- A channel's position, and the retained publications after a point.
--
-- KEYS[1] meta hash   KEYS[2] stream
-- ARGV[1] since offset (-1: no since, read the newest)   ARGV[2] since epoch
-- ARGV[3] limit   ARGV[4] history ttl (ms; 0: no time bound)   ARGV[5] meta ttl (ms)
-- ARGV[6] epoch to start if the channel has none ('': do not create it)
-- ARGV[7] '1': read after the offset whatever the epoch (the broker's own refill)
-- Returns {epoch, offset, message...}, oldest first; epoch '' when the
-- channel has no meta and ARGV[6] is ''.
-- A meta written by another server (a failover, a moved slot) may be behind
-- what clients saw: treated as lost, as publish.lua explains.
-- '' where INFO is refused or has no replication id (some hosted Redis):
-- failovers then go unnoticed there, as before this check.
local info = redis.pcall('INFO', 'replication')
local gen = type(info) == 'string' and string.match(info, 'master_replid:(%x+)') or ''
local meta = redis.call('HMGET', KEYS[1], 'e', 'o', 'g')
local epoch = meta[1]
if epoch and meta[3] and meta[3] ~= gen then
  epoch = false
end
if not epoch then
  if ARGV[6] == '' then
    return {'', 0}
  end
  epoch = ARGV[6]
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'e', epoch, 'o', 0, 'g', gen)
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return {epoch, 0}
end
local out = {epoch, tonumber(meta[2] or '0')}
local limit = tonumber(ARGV[3])
if limit <= 0 then
  return out
end

local ttl = tonumber(ARGV[4])
if ttl > 0 then
  -- Stream ids are offsets, not times, so publications older than the TTL
  -- are found by their ts field; they sit at the head, and are cut there.
  local now = redis.call('TIME')
  local horizon = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - ttl
  while true do
    local head = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 64)
    local cut = nil
    local alive = false
    for _, entry in ipairs(head) do
      if tonumber(entry[2][2]) < horizon then
        cut = tonumber(string.match(entry[1], '^(%d+)'))
      else
        alive = true
        break
      end
    end
    if cut then
      redis.call('XTRIM', KEYS[2], 'MINID', (cut + 1) .. '-0')
    end
    if alive or #head < 64 then
      break
    end
  end
end

local since = tonumber(ARGV[1])
if since < 0 then
  local entries = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', limit)
  for i = #entries, 1, -1 do
    out[#out + 1] = entries[i][2][4]
  end
elseif (ARGV[2] == epoch or ARGV[7] == '1') and since < out[2] then
  -- A since past the end has nothing after it. %d: Lua's tostring turns
  -- 1e14 and up into '1e+14', which is no stream id.
  local entries = redis.call('XRANGE', KEYS[2], string.format('%d-0', since + 1), '+', 'COUNT', limit)
  for _, entry in ipairs(entries) do
    out[#out + 1] = entry[2][4]
  end
end
return out
