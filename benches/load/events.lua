-- POST /api/v1/me/jobs/{id}/events as couriers report their visits: each request is a
-- courier reporting on one of his own jobs with a fresh Idempotency-Key. The first pass over
-- the jobs reports `departed` (the job goes en route), the second `arrived`, and later
-- passes repeat `arrived`, which is recorded without moving the job (`applied: false`): all
-- are answered 200. Never `completed` or `failed`, so the day stays reportable.
--
--   wrk -t1 -c32 -d30s --latency -s events.lua http://127.0.0.1:18080 -- couriers.tsv RUN_ID

package.path = (os.getenv("LOAD_LUA_DIR") or "benches/load") .. "/?.lua;" .. package.path
local common = require("common")

local visits = {}
local run_id = "run"
local sent = 0
local offset = 0
bad = 0
applied = 0
recorded = 0

function setup(thread)
  common.setup(thread)
end

function init(args)
  local couriers = common.load_couriers(args[1])
  run_id = (args[2] or tostring(os.time())) .. "-" .. tostring(tid or 1)
  -- Courier by courier, job by job, interleaved so that consecutive requests are different
  -- couriers' (as phones report independently).
  local most = 0
  for _, c in ipairs(couriers) do most = math.max(most, #c.jobs) end
  for j = 1, most do
    for _, c in ipairs(couriers) do
      if c.jobs[j] then
        visits[#visits + 1] = { auth = "Bearer " .. c.token, path = "/api/v1/me/jobs/" .. c.jobs[j] .. "/events" }
      end
    end
  end
  assert(#visits > 0, "no jobs to report on")
  -- Threads work on disjoint stretches first.
  offset = ((tid or 1) - 1) * 7919
end

local coords = { "52.4512", "52.5021", "52.5389", "52.4876" }

function request()
  local n = offset + sent
  local kind = (sent < #visits) and "departed" or "arrived"
  sent = sent + 1
  local visit = visits[n % #visits + 1]
  local body = string.format('{"type":"%s","at":"%s","lat":%s,"lon":13.4%03d}',
    kind, os.date("!%Y-%m-%dT%H:%M:%SZ"), coords[n % 4 + 1], n % 1000)
  return wrk.format("POST", visit.path, {
    ["Authorization"] = visit.auth,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = run_id .. "-" .. sent,
  }, body)
end

function response(status, headers, body)
  if status ~= 200 then
    bad = bad + 1
  elseif body:find('"applied":true', 1, true) then
    applied = applied + 1
  else
    recorded = recorded + 1
  end
end

function done(summary, latency, requests)
  common.done(summary, latency, { "applied", "recorded" })
end
