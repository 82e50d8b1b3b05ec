-- Claims the unique keys of one page's items for the crawl.
-- KEYS[1]: the hash of unique keys, key → owner (the page's fingerprint,
--          8 bytes, then the name of the process that claimed it).
-- ARGV[1]: the page's fingerprint; ARGV[2]: this process's name;
-- ARGV[3…]: the keys.
-- Returns one 1 (the page may keep the item) or 0 (a duplicate) per key.
-- A key is the page's when nobody has claimed it, or when the same page
-- claimed it in another process: that process died before its items were
-- committed, and the page was given to this one to fetch again.
local hash, page, proc = KEYS[1], ARGV[1], ARGV[2]
local owner = page .. proc
local out = {}
for i = 3, #ARGV do
  local k = ARGV[i]
  local v = redis.call('HGET', hash, k)
  if not v or (v ~= owner and string.sub(v, 1, 8) == page) then
    redis.call('HSET', hash, k, owner)
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out
