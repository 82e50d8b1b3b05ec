-- The shared frontier's changes of state, each run atomically by Redis.
-- Every call passes the same first arguments, then a command and its own
-- from ARGV[12] on.
--
-- Keys, under the crawl's prefix P:
--   P.."seen"      set of the fingerprints of every request queued or claimed
--   P.."q:"..host  list of the encoded requests waiting for host, oldest first
--   P.."h:"..host  hash of the host's politeness: active (requests in flight
--                  across all processes), next (earliest start of the next
--                  request, in ms), delay (ms, when it is not the base) and
--                  "a:"..proc (requests in flight from proc)
--   P.."ready"     sorted set of the hosts with a request waiting and a free
--                  slot, scored by next
--   P.."queued"    the number of requests waiting, over every host
--   P.."procs"     sorted set of live processes, scored by when their lease
--                  runs out (ms) unless they renew it
--   P.."l:"..proc  hash of the requests proc has taken and not finished:
--                  sequence number -> state, host, "\n", encoded request
--   P.."feeding"   set of the processes still reading their start requests
--   P.."crawl"     hash of the crawl's identity: id, written once when the
--                  crawl is created, and for each process "n:"..proc, how
--                  many calls of it Redis has run
--   P.."want"      sorted set of the processes that asked for a request
--                  lately and got none, scored by when they last asked
--   P.."since"     the same processes, scored by when they began to wait
--   P.."claim:"..fingerprint  who claimed a page reached by a redirect, for
--                  a lease, so that a claim made again is known
--   P.."unique"    hash of the unique keys of the items written: key ->
--                  the fingerprint of the page that claimed it (8 bytes),
--                  then the name of its process
--
-- Every call but open carries the crawl's id and how many of its calls the
-- process has seen answered. A crawl whose id is gone, or another, vanished
-- (Redis restarted empty, or the keys were flushed or evicted); a process
-- whose calls Redis has run fewer times than it answered them saw Redis go
-- back in time (restarted from an older snapshot). Either is an error
-- reply, LOST, REPLACED or ROLLEDBACK, before anything is read or written:
-- an empty Redis is never taken for an empty queue.
--
-- A taken request is in one of three states: H, taken; C, its items are
-- written but its links not yet queued; L, its links are queued but its
-- items not yet written. It is forgotten when both have happened. Whatever
-- the state, a process that dies or closes gives it back to its queue.
local P = ARGV[1]
local now = tonumber(ARGV[2])
if now == 0 then
  -- The server's clock, in ms: one clock for every process of the crawl.
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local per = tonumber(ARGV[3])
local proc = ARGV[4]
local lease = tonumber(ARGV[5])
local base = tonumber(ARGV[6])
local maxDelay = tonumber(ARGV[7])
local throttle = ARGV[8] == '1'
local cmd = ARGV[9]
local CRAWL = P .. 'crawl'
local calls = 'n:' .. proc

if cmd ~= 'open' then
  local c = redis.call('HMGET', CRAWL, 'id', calls)
  if not c[1] then
    return redis.error_reply('LOST the crawl is gone from Redis')
  elseif c[1] ~= ARGV[10] then
    return redis.error_reply('REPLACED the crawl in Redis is another')
  elseif tonumber(c[2] or '0') < tonumber(ARGV[11]) then
    return redis.error_reply('ROLLEDBACK Redis forgot calls it answered')
  end
end
redis.call('HINCRBY', CRAWL, calls, 1)

local SEEN, READY, QUEUED = P .. 'seen', P .. 'ready', P .. 'queued'
local PROCS, FEEDING = P .. 'procs', P .. 'feeding'
local WANT, SINCE = P .. 'want', P .. 'since'
local function qkey(host) return P .. 'q:' .. host end
local function hkey(host) return P .. 'h:' .. host end
local function lkey(p) return P .. 'l:' .. p end

local function queued() return tonumber(redis.call('GET', QUEUED) or '0') end

-- place puts host among the ready hosts if it has a request waiting and a
-- free slot; a host already there keeps its place.
local function place(host)
  local h = redis.call('HMGET', hkey(host), 'active', 'next')
  if tonumber(h[1] or '0') < per and redis.call('LLEN', qkey(host)) > 0 then
    redis.call('ZADD', READY, 'NX', tonumber(h[2] or '0'), host)
  end
end

-- release frees one of host's slots that p held, in the count of p's.
local function release(hk, p)
  if redis.call('HINCRBY', hk, 'a:' .. p, -1) <= 0 then
    redis.call('HDEL', hk, 'a:' .. p)
  end
end

local function parse(v)
  local nl = string.find(v, '\n', 2, true)
  return string.sub(v, 1, 1), string.sub(v, 2, nl - 1), string.sub(v, nl + 1)
end

-- requeue gives every request process p has taken back to the front of
-- its host's queue, frees the slots they held, and forgets p.
local function requeue(p)
  local lk = lkey(p)
  local all = redis.call('HGETALL', lk)
  -- Last taken first, each to the front: they keep their order.
  local order = {}
  for i = 1, #all, 2 do
    table.insert(order, i)
  end
  table.sort(order, function(x, y) return tonumber(all[x], 36) > tonumber(all[y], 36) end)
  local n = 0
  for _, i in ipairs(order) do
    local state, host, enc = parse(all[i + 1])
    if state ~= 'L' then
      redis.call('HINCRBY', hkey(host), 'active', -1)
      release(hkey(host), p)
    end
    redis.call('LPUSH', qkey(host), enc)
    redis.call('PERSIST', hkey(host))
    place(host)
    n = n + 1
  end
  redis.call('DEL', lk)
  redis.call('ZREM', PROCS, p)
  redis.call('SREM', FEEDING, p)
  redis.call('ZREM', WANT, p)
  redis.call('ZREM', SINCE, p)
  if n > 0 then
    redis.call('INCRBY', QUEUED, n)
  end
  return n
end

-- reap requeues the requests of processes whose lease ran out, and
-- returns their names and how many requests each had.
local function reap()
  local out = {}
  for _, p in ipairs(redis.call('ZRANGEBYSCORE', PROCS, '-inf', now, 'LIMIT', 0, 8)) do
    if p ~= proc then
      table.insert(out, p)
      table.insert(out, requeue(p))
    end
  end
  return out
end

-- finish records that the request seq of this process was fetched and its
-- links queued: it frees the host's slot and adjusts the host's delay.
local function finish(seq, status, latency, crawlDelay)
  local lk = lkey(proc)
  local v = redis.call('HGET', lk, seq)
  if not v then
    return -- requeued by another process, which freed the slot
  end
  local state, host = parse(v)
  if state == 'H' then
    redis.call('HSET', lk, seq, 'L' .. string.sub(v, 2))
  elseif state == 'C' then
    redis.call('HDEL', lk, seq)
  else
    return
  end
  local hk = hkey(host)
  local active = redis.call('HINCRBY', hk, 'active', -1)
  release(hk, proc)
  local h = redis.call('HMGET', hk, 'delay', 'next')
  local old = tonumber(h[1] or base)
  local delay, nxt = old, tonumber(h[2] or '0')
  if throttle then
    -- AutoThrottle, as the engine's own frontier has it.
    if status == 429 or status == 503 then
      delay = math.max(2 * delay, 1000)
    elseif status == 0 or status >= 400 then
      delay = math.max(delay, math.floor((delay + latency) / 2))
    else
      delay = math.floor((delay + latency) / 2)
    end
    delay = math.min(math.max(delay, base), maxDelay)
  end
  local cd = math.min(crawlDelay, maxDelay)
  if cd > delay then
    delay = cd
  end
  if delay ~= old then
    redis.call('HSET', hk, 'delay', delay)
  end
  if redis.call('LLEN', qkey(host)) > 0 then
    if active < per then
      redis.call('ZADD', READY, 'NX', nxt, host)
    end
  elseif active <= 0 then
    -- Idle: forget the host once its delay has passed, as a broad crawl
    -- meets millions.
    if nxt <= now then
      redis.call('DEL', hk)
    else
      redis.call('PEXPIREAT', hk, nxt)
    end
  end
end

-- finishAll finishes the requests listed from ARGV[i] on, four values each.
local function finishAll(i)
  while i + 3 <= #ARGV do
    finish(ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3]))
    i = i + 4
  end
end

local function beat()
  redis.call('ZADD', PROCS, now + lease, proc)
end

-- A process that asks for a request and gets none, while requests wait,
-- wants work; it counts as wanting for fresh ms after it last asked.
local fresh = 1000
-- A process that has wanted work for turn ms goes before any process
-- holding as many of a host's slots as it does.
local turn = 200

-- rivals forgets the processes that stopped asking, and returns the
-- others that want work, this process aside.
local function rivals()
  for _, p in ipairs(redis.call('ZRANGEBYSCORE', WANT, '-inf', now - fresh)) do
    redis.call('ZREM', WANT, p)
    redis.call('ZREM', SINCE, p)
  end
  local out = {}
  for _, p in ipairs(redis.call('ZRANGE', WANT, 0, -1)) do
    if p ~= proc then
      table.insert(out, p)
    end
  end
  return out
end

-- fair says whether this process may take one more of a host's slots
-- while the rivals want work too: not when it holds its share of them
-- already, nor when a rival that has waited longer holds no more of them.
-- Without it, a process that finishes a request takes the freed slot in
-- the same call, and one process keeps a host's every slot for good.
local function fair(hk, rv)
  if #rv == 0 then
    return true
  end
  local mine = tonumber(redis.call('HGET', hk, 'a:' .. proc) or '0')
  if mine >= math.ceil(per / (#rv + 1)) then
    return false
  end
  local since = tonumber(redis.call('ZSCORE', SINCE, proc) or now)
  for _, q in ipairs(rv) do
    local s = tonumber(redis.call('ZSCORE', SINCE, q) or now)
    if s < since and s + turn < now and tonumber(redis.call('HGET', hk, 'a:' .. q) or '0') <= mine then
      return false
    end
  end
  return true
end

-- take takes the first request of host's queue for this process under the
-- lease seq, or returns false when host is out of place.
local function take(host, seq)
  local hk, qk = hkey(host), qkey(host)
  local active = tonumber(redis.call('HGET', hk, 'active') or '0')
  local enc = false
  if active < per then
    enc = redis.call('LPOP', qk)
  end
  if not enc then
    -- Out of place: its queue is empty, or it is full by this process's
    -- lower --per-host.
    redis.call('ZREM', READY, host)
    return false
  end
  active = redis.call('HINCRBY', hk, 'active', 1)
  redis.call('HINCRBY', hk, 'a:' .. proc, 1)
  local at = now + tonumber(redis.call('HGET', hk, 'delay') or base)
  redis.call('HSET', hk, 'next', at)
  if active < per and redis.call('LLEN', qk) > 0 then
    redis.call('ZADD', READY, at, host) -- to the back: hosts take turns
  else
    redis.call('ZREM', READY, host)
  end
  redis.call('HSET', lkey(proc), seq, 'H' .. host .. '\n' .. enc)
  redis.call('ZREM', WANT, proc)
  redis.call('ZREM', SINCE, proc)
  return enc
end

if cmd == 'add' then
  -- ARGV[12] fingerprint, [13] host, [14] encoded request.
  if redis.call('SADD', SEEN, ARGV[12]) == 0 then
    return {0, queued()}
  end
  local host = ARGV[13]
  redis.call('RPUSH', qkey(host), ARGV[14])
  redis.call('PERSIST', hkey(host))
  place(host)
  return {1, redis.call('INCR', QUEUED)}
elseif cmd == 'adds' then
  -- From ARGV[12], a fingerprint, a host and an encoded request for each
  -- request; returns how many were new, and the requests waiting.
  local n = 0
  local i = 12
  while i + 2 <= #ARGV do
    if redis.call('SADD', SEEN, ARGV[i]) == 1 then
      local host = ARGV[i + 1]
      redis.call('RPUSH', qkey(host), ARGV[i + 2])
      redis.call('PERSIST', hkey(host))
      place(host)
      n = n + 1
    end
    i = i + 3
  end
  if n == 0 then
    return {0, queued()}
  end
  return {n, redis.call('INCRBY', QUEUED, n)}
elseif cmd == 'next' then
  -- ARGV[12] sequence number for the lease, then requests to finish.
  beat()
  finishAll(13)
  local reaped = reap()
  local seq = ARGV[12]
  local v = redis.call('HGET', lkey(proc), seq)
  if v then
    -- A retry of a call that did take a request: the same one.
    local _, _, enc = parse(v)
    return {enc, 0, queued(), reaped}
  end
  local rv = rivals()
  local ready = redis.call('ZRANGEBYSCORE', READY, '-inf', now, 'LIMIT', 0, 32)
  local refused = false
  for _, host in ipairs(ready) do
    if not fair(hkey(host), rv) then
      refused = true
    else
      local enc = take(host, seq)
      if enc then
        return {enc, 0, redis.call('DECR', QUEUED), reaped}
      end
    end
  end
  local n = queued()
  if n > 0 then
    redis.call('ZADD', WANT, now, proc)
    redis.call('ZADD', SINCE, 'NX', now, proc)
  end
  if #ready == 32 and not refused then
    return {'', 0, n, reaped} -- hosts out of place were dropped: ask again
  end
  local top = redis.call('ZRANGE', READY, 0, 0, 'WITHSCORES')
  if #top > 0 and tonumber(top[2]) > now then
    return {'', tonumber(top[2]) - now, n, reaped}
  end
  return {'', -1, n, reaped}
elseif cmd == 'commit' then
  -- ARGV[12] sequence number.
  local lk, seq = lkey(proc), ARGV[12]
  local v = redis.call('HGET', lk, seq)
  if not v then
    return 0
  end
  local state = string.sub(v, 1, 1)
  if state == 'H' then
    redis.call('HSET', lk, seq, 'C' .. string.sub(v, 2))
  elseif state == 'L' then
    redis.call('HDEL', lk, seq)
  end
  return 1
elseif cmd == 'claim' then
  -- ARGV[12] fingerprint, [13] a name for this claim: a retry of a call
  -- that did claim the page claims it again.
  local ck = P .. 'claim:' .. ARGV[12]
  if redis.call('SADD', SEEN, ARGV[12]) == 1 then
    redis.call('SET', ck, ARGV[13], 'PX', lease)
    return 1
  end
  if redis.call('GET', ck) == ARGV[13] then
    return 1
  end
  return 0
elseif cmd == 'finish' then
  -- Requests to finish from ARGV[12].
  beat()
  finishAll(12)
  return queued()
elseif cmd == 'settled' then
  -- Requests to finish from ARGV[12].
  beat()
  finishAll(12)
  local reaped = reap()
  local n = queued()
  if n > 0 or redis.call('SCARD', FEEDING) > 0 then
    return {0, n, reaped}
  end
  for _, p in ipairs(redis.call('ZRANGE', PROCS, 0, -1)) do
    if redis.call('EXISTS', lkey(p)) == 1 then
      return {0, n, reaped}
    end
  end
  return {1, n, reaped}
elseif cmd == 'open' then
  -- ARGV[10] the id of the crawl, should this process create it. Returns
  -- the crawl's id and the requests waiting.
  redis.call('HSETNX', CRAWL, 'id', ARGV[10])
  beat()
  redis.call('SADD', FEEDING, proc)
  return {redis.call('HGET', CRAWL, 'id'), queued()}
elseif cmd == 'beat' then
  -- ARGV[12] is 1 while this process reads its start requests.
  beat()
  if ARGV[12] == '1' then
    redis.call('SADD', FEEDING, proc)
  else
    redis.call('SREM', FEEDING, proc)
  end
  return queued()
elseif cmd == 'unique' then
  -- The unique keys of one page's items, each once: ARGV[12] the page's
  -- fingerprint, the keys from ARGV[13]. A key is the page's when nobody
  -- claimed it or the same page did: in this process, this very call made
  -- again after a timeout; in another, a process that died before the page
  -- was committed, so that this one fetches it again. One 1 (keep the
  -- item) or 0 (a duplicate) per key.
  local U, page = P .. 'unique', ARGV[12]
  local out = {}
  for i = 13, #ARGV do
    local v = redis.call('HGET', U, ARGV[i])
    if not v or string.sub(v, 1, 8) == page then
      redis.call('HSET', U, ARGV[i], page .. proc)
      out[#out + 1] = 1
    else
      out[#out + 1] = 0
    end
  end
  return out
elseif cmd == 'close' then
  -- Requests to finish from ARGV[12].
  finishAll(12)
  -- Its count of calls stays: a retry of this call must not look like a
  -- Redis gone back in time.
  return requeue(proc)
end
return redis.error_reply('unknown command ' .. tostring(cmd))
