-- wrk script for bench/load.py: POSTs GraphQL bodies (one JSON document per line of a file,
-- taken in turn), counts non-200 answers and answers with GraphQL errors, and prints a summary
-- as one JSON line starting with BENCHJSON.
-- usage: wrk ... -s post.lua URL -- BODIES_FILE "Bearer TOKEN"

local bodies = {}
local next_body = 0
responses = 0
non200 = 0
gqlerrors = 0

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then bodies[#bodies + 1] = line end
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = args[2]
  next_body = math.random(0, #bodies - 1)
end

function request()
  next_body = next_body % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[next_body])
end

function response(status, headers, body)
  responses = responses + 1
  if status ~= 200 then
    non200 = non200 + 1
  elseif string.find(body, '"errors"', 1, true) then
    gqlerrors = gqlerrors + 1
  end
end

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function done(summary, latency, requests)
  local r, n, g = 0, 0, 0
  for _, t in ipairs(threads) do
    r = r + t:get("responses")
    n = n + t:get("non200")
    g = g + t:get("gqlerrors")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,'
      .. '"max_us":%d,"responses":%d,"non200":%d,"gqlerrors":%d,"connect_errors":%d,"read_errors":%d,'
      .. '"write_errors":%d,"status_errors":%d,"timeouts":%d}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, r, n, g, e.connect, e.read, e.write, e.status, e.timeout))
end
