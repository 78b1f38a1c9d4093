-- The benchmark's fixed CRUD mix, for wrk:
--   35% GET  /v1/accounts/{id}
--   25% GET  /v1/accounts/{id}/movements?limit=20
--   20% POST /v1/accounts/{id}/movements
--   10% GET  /v1/me
--   10% GET  /v1/overview
-- over the seeded users, picked at random (a fixed seed per thread).
--
--   wrk -t2 -c64 -d30s -s bench/mix.lua http://127.0.0.1:PORT -- DATA_FILE
--
-- DATA_FILE has one line per user: "<token> <account id> <account id> ...".
-- Every response that is not 2xx counts as an error, by status; done() prints
-- one line "BENCH_JSON {...}" with the counts and wrk's latency percentiles.

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_number", counter)
  table.insert(threads, thread)
end

local requests = {}   -- per kind: a list of ready-made request strings
local posts = {}

function init(args)
  statuses = {}
  math.randomseed(1000 + thread_number)
  local path = args[1]
  if path == nil then error("usage: wrk ... -s mix.lua URL -- DATA_FILE") end
  local gets_account, gets_movements, gets_me, gets_overview = {}, {}, {}, {}
  local categories = { "food", "rent", "fun", "travel", "salary", "health" }
  for line in io.lines(path) do
    local fields = {}
    for word in line:gmatch("%S+") do table.insert(fields, word) end
    if #fields >= 2 then
      local auth = { ["Authorization"] = "Bearer " .. fields[1] }
      local json = { ["Authorization"] = "Bearer " .. fields[1], ["Content-Type"] = "application/json" }
      table.insert(gets_me, wrk.format("GET", "/v1/me", auth))
      table.insert(gets_overview, wrk.format("GET", "/v1/overview", auth))
      for i = 2, #fields do
        local account = "/v1/accounts/" .. fields[i]
        table.insert(gets_account, wrk.format("GET", account, auth))
        table.insert(gets_movements, wrk.format("GET", account .. "/movements?limit=20", auth))
        for k = 1, 8 do
          local amount = (k % 3 == 0) and (1000 + 137 * k) or -(100 + 91 * k)
          local body = string.format('{"amount": %d, "description": "Bench movement %d", "category": "%s"}',
            amount, k, categories[(k % #categories) + 1])
          table.insert(posts, wrk.format("POST", account .. "/movements", json, body))
        end
      end
    end
  end
  if #gets_me == 0 then error("no users in " .. path) end
  requests = { account = gets_account, movements = gets_movements, me = gets_me, overview = gets_overview }
end

local function pick(list)
  return list[math.random(#list)]
end

function request()
  local r = math.random(100)
  if r <= 35 then return pick(requests.account)
  elseif r <= 60 then return pick(requests.movements)
  elseif r <= 80 then return pick(posts)
  elseif r <= 90 then return pick(requests.me)
  else return pick(requests.overview) end
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
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
    if code < 200 or code > 299 then non2xx = non2xx + 1 * n end
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
