-- wrk script for benches/search.sh: GET requests for the paths listed in a file, then one JSON line of results.
--
--   wrk -t2 -c64 -d30s -s benches/search.lua http://127.0.0.1:PORT -- PATHS_FILE [roundrobin|random]
--
-- PATHS_FILE: one request path per line (starting with /); blank lines and lines starting with # are ignored.
-- roundrobin (the default): each thread sends the paths in turn, starting at a different line, so the load
-- has the list's mix. random: each request takes a path at random (seeded per thread).
-- When the run ends, done() prints one line: `wrk-json {...}`, with requests, seconds, requests/s, latency
-- percentiles in ms (p50, p90, p99, p99.9, max, mean), bytes, and the errors (connect, read, write, timeout,
-- status = HTTP status > 399).

local threads = {}
local counter = 0

-- Runs in the main Lua state, once per thread, before init.
function setup(thread)
   counter = counter + 1
   thread:set("id", counter)
   table.insert(threads, thread)
end

local requests = {}
local next_index = 1
local mode = "roundrobin"

-- Runs in each thread's own Lua state, with the arguments after `--`.
function init(args)
   local file = args[1]
   if file == nil then
      error("search.lua: give the paths file after --")
   end
   mode = args[2] or "roundrobin"
   if mode ~= "roundrobin" and mode ~= "random" then
      error("search.lua: mode must be roundrobin or random, not " .. mode)
   end
   local f, err = io.open(file, "r")
   if f == nil then
      error("search.lua: cannot open " .. file .. ": " .. tostring(err))
   end
   for line in f:lines() do
      line = line:gsub("\r$", ""):match("^%s*(.-)%s*$")
      if line ~= "" and line:sub(1, 1) ~= "#" then
         table.insert(requests, wrk.format("GET", line))
      end
   end
   f:close()
   if #requests == 0 then
      error("search.lua: no paths in " .. file)
   end
   local id = tonumber(id) or 1
   -- Spread the threads' starting points over the list (golden-ratio steps: apart for any number of threads).
   next_index = ((id - 1) * math.floor(#requests * 0.618)) % #requests + 1
   math.randomseed(os.time() + id * 7919)
end

function request()
   if mode == "random" then
      return requests[math.random(#requests)]
   end
   local r = requests[next_index]
   next_index = next_index % #requests + 1
   return r
end

-- Runs in the main Lua state after the run. Latencies are in microseconds.
function done(summary, latency, requests)
   local seconds = summary.duration / 1e6
   local e = summary.errors
   local function ms(us) return us / 1000 end
   io.write(string.format(
      'wrk-json {"requests": %d, "seconds": %.3f, "rps": %.1f, "bytes": %d, ' ..
      '"p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, "p999_ms": %.3f, "max_ms": %.3f, "mean_ms": %.3f, ' ..
      '"stdev_ms": %.3f, "errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d, "status": %d}, ' ..
      '"threads": %d}\n',
      summary.requests, seconds, summary.requests / seconds, summary.bytes,
      ms(latency:percentile(50)), ms(latency:percentile(90)), ms(latency:percentile(99)),
      ms(latency:percentile(99.9)), ms(latency.max), ms(latency.mean), ms(latency.stdev),
      e.connect, e.read, e.write, e.timeout, e.status, #threads))
end
