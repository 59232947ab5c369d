-- GET /api/v1/me/route?date=DATE as the couriers' phones poll it: each request signs in as
-- the next courier (rotating over all tokens, each thread starting elsewhere), asks for gzip,
-- and in `etag` mode sends the ETag the phone already has (the 304 path).
--
--   wrk -t1 -c32 -d30s --latency -s route.lua http://127.0.0.1:18080 -- couriers.tsv DATE plain|etag

package.path = (os.getenv("LOAD_LUA_DIR") or "benches/load") .. "/?.lua;" .. package.path
local common = require("common")

local requests = {}
local next_index = 0
expected = 200
bad = 0

function setup(thread)
  common.setup(thread)
end

function init(args)
  local couriers = common.load_couriers(args[1])
  local date, mode = args[2], args[3] or "plain"
  if mode == "etag" then expected = 304 end
  for i, c in ipairs(couriers) do
    local headers = {
      ["Authorization"] = "Bearer " .. c.token,
      ["Accept-Encoding"] = "gzip",
    }
    if mode == "etag" then headers["If-None-Match"] = c.etag end
    requests[i] = wrk.format("GET", "/api/v1/me/route?date=" .. date, headers)
  end
  next_index = ((tid or 1) * 7919) % #requests
end

function request()
  next_index = next_index % #requests + 1
  return requests[next_index]
end

function response(status, headers, body)
  if status ~= expected then bad = bad + 1 end
end

function done(summary, latency, requests)
  common.done(summary, latency)
end
