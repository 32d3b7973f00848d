-- wrk script for bench/load.py: POSTs GraphQL bodies (one JSON document per line of a file),
-- counts non-200 answers and answers with GraphQL errors, and prints a summary as one JSON line
-- starting with BENCHJSON.
-- usage: wrk ... -s post.lua URL -- BODIES_FILE "Bearer TOKEN" SEED
-- SEED 0 takes the bodies in turn; another seed picks each request's body with the Park-Miller
-- generator of bench/queries.py (picks), so a seed gives the same sequence on every server.

local bodies = {}
local seed = 0
local x = 0
local turn = 0
local MODULUS = 2147483647
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
  seed = tonumber(args[3] or "0")
  x = seed
end

-- The next body's index (1-based). x * 48271 < 2^47 is exact in a double; the remainder is
-- corrected once in case the floating division rounded the quotient the wrong way.
local function pick()
  if seed == 0 then
    turn = turn % #bodies + 1
    return turn
  end
  x = x * 48271
  x = x - math.floor(x / MODULUS) * MODULUS
  if x < 0 then x = x + MODULUS elseif x >= MODULUS then x = x - MODULUS end
  return x % #bodies + 1
end

-- wrk calls request() once before the run to check what it returns (script_verify_request, on the
-- first thread's state, after init; bench/load.py runs one thread): that call must not use up a pick.
local verified = false

function request()
  if not verified then
    verified = true
    return wrk.format(nil, nil, nil, bodies[1])
  end
  return wrk.format(nil, nil, nil, bodies[pick()])
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
