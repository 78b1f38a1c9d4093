-- Data scale, for wrk: seed one account with N movements, or time one GET.
--
--   wrk -tT ... -s bench/scale.lua URL -- seed TOKEN ACCOUNT_ID N T
--       POSTs exactly N movements to the account (split over the T threads;
--       occurred_at spread over 2025, 8 categories); a thread stops once its
--       share is answered (wrk itself then waits to be interrupted). Progress
--       goes to stderr: "seeded 1000" lines and "thread done <rest>".
--       wrk calls request() once on the first thread's state to check the
--       script, and drops that request: so each thread's first request is a
--       GET /health that counts for nothing.
--   wrk ... -s bench/scale.lua URL -- get TOKEN PATH
--       GETs PATH over and over.
--
-- Statuses are counted (the seed's POSTs must all be 201); done() prints one
-- line "BENCH_JSON {...}" like mix.lua.

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_number", counter)
  table.insert(threads, thread)
end

local mode, auth, json_headers, path, quota
local sent, answered, health, first = 0, 0, nil, true
local categories = { "food", "rent", "fun", "travel", "salary", "health", "books", "tax" }
local year_start = 1735689600 -- 2025-01-01T00:00:00Z

function init(args)
  statuses = {}
  mode = args[1]
  math.randomseed(7000 + thread_number)
  auth = { ["Authorization"] = "Bearer " .. args[2] }
  if mode == "seed" then
    json_headers = { ["Authorization"] = "Bearer " .. args[2], ["Content-Type"] = "application/json" }
    path = "/v1/accounts/" .. args[3] .. "/movements"
    -- this thread's share of the total
    local total, threads_total = tonumber(args[4]), tonumber(args[5])
    quota = math.floor(total / threads_total)
    if thread_number <= total % threads_total then quota = quota + 1 end
    health = wrk.format("GET", "/health")
  elseif mode == "get" then
    path = wrk.format("GET", args[3], auth)
  else
    error("mode must be seed or get")
  end
end

function request()
  if mode == "get" then return path end
  if first or sent >= quota then
    first = false
    return health
  end
  sent = sent + 1
  local amount = math.random(-50000, 50000)
  if amount == 0 then amount = 1 end
  local at = os.date("!%Y-%m-%dT%H:%M:%SZ", year_start + math.random(0, 365 * 86400 - 1))
  local body = string.format('{"amount": %d, "description": "Scale movement", "category": "%s", "occurred_at": "%s"}',
    amount, categories[math.random(#categories)], at)
  return wrk.format("POST", path, json_headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if mode == "seed" and status ~= 200 then
    answered = answered + 1
    if answered % 1000 == 0 then io.stderr:write("seeded 1000\n") end
    if answered == quota then
      io.stderr:write(string.format("thread done %d\n", quota % 1000))
      wrk.thread:stop()
    end
  end
end

function done(summary, latency, requests)
  local codes, parts, non2xx = {}, {}, 0
  for _, thread in ipairs(threads) do
    for code, n in pairs(thread:get("statuses") or {}) do
      codes[code] = (codes[code] or 0) + n
    end
  end
  for code, n in pairs(codes) do
    table.insert(parts, string.format('"%d": %d', code, n))
    if code < 200 or code > 299 then non2xx = non2xx + n end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "non2xx": %d, "statuses": {%s}, ' ..
    '"socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, ' ..
    '"latency_us": {"min": %d, "mean": %.1f, "stdev": %.1f, "max": %d, "p50": %d, "p90": %d, "p99": %d, "p999": %d}}\n',
    summary.requests, summary.duration, summary.bytes, non2xx, table.concat(parts, ", "),
    e.connect, e.read, e.write, e.timeout,
    latency.min, latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))
end
