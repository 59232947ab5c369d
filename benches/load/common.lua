-- Shared by the wrk scripts of the load benchmark (loaded through LOAD_LUA_DIR).
--
-- couriers.tsv, written by run.sh: one courier a line, `token<TAB>etag<TAB>job,job,...`.
-- Each wrk thread counts the answers that are not the expected status in the global `bad`
-- (wrk's own error count covers socket errors and statuses >= 400 only, so a 304 where a
-- 200 is expected, or the reverse, would pass unseen); `done` adds them up over the threads
-- and prints one machine-readable RESULT line that run.sh turns into the table.

local M = {}

function M.load_couriers(path)
  local couriers = {}
  local file = assert(io.open(path, "r"), "cannot open " .. tostring(path))
  for line in file:lines() do
    local token, etag, jobs = line:match("^([^\t]+)\t([^\t]*)\t?(.*)$")
    if token then
      local ids = {}
      for id in jobs:gmatch("%d+") do ids[#ids + 1] = id end
      couriers[#couriers + 1] = { token = token, etag = etag, jobs = ids }
    end
  end
  file:close()
  assert(#couriers > 0, "no couriers in " .. path)
  return couriers
end

local threads = {}

-- Call from the script's global `setup(thread)`: numbers the threads and keeps them for `done`.
function M.setup(thread)
  thread:set("tid", #threads + 1)
  threads[#threads + 1] = thread
end

local function sum(name)
  local total = 0
  for _, t in ipairs(threads) do total = total + (tonumber(t:get(name)) or 0) end
  return total
end

-- Call from the script's global `done`; `extra` names further per-thread counters to print.
function M.done(summary, latency, extra)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  local line = string.format(
    "RESULT requests=%d seconds=%.1f rps=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f "
      .. "unexpected_status=%d wrk_status_errors=%d socket_errors=%d bytes_per_response=%.0f",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    sum("bad"), e.status, e.connect + e.read + e.write + e.timeout,
    summary.bytes / math.max(summary.requests, 1))
  for _, name in ipairs(extra or {}) do
    line = line .. string.format(" %s=%d", name, sum(name))
  end
  io.write(line .. "\n")
end

return M
