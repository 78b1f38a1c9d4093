-- One fixed request body, POSTed over and over, for wrk: how long Tally takes
-- to answer a body of a given size (scripts/bench --validation).
--
--   wrk -t1 -c4 -d5s -s bench/body.lua http://127.0.0.1:PORT -- PATH BODY_FILE
--
-- done() prints one line "BENCH_JSON {...}" like bench/mix.lua's, counting
-- responses by status (a 422 is what this load expects, not an error).

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
  local f = assert(io.open(args[2], "rb"))
  local body = f:read("*a")
  f:close()
  request_text = wrk.format("POST", args[1], {["Content-Type"] = "application/json"}, body)
end

function request()
  return request_text
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local codes, parts = {}, {}
  for _, thread in ipairs(threads) do
    for code, n in pairs(thread:get("statuses") or {}) do
      codes[code] = (codes[code] or 0) + n
    end
  end
  for code, n in pairs(codes) do
    table.insert(parts, string.format('"%d": %d', code, n))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "non2xx": 0, "statuses": {%s}, ' ..
    '"socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, ' ..
    '"latency_us": {"min": %d, "mean": %.1f, "stdev": %.1f, "max": %d, "p50": %d, "p90": %d, "p99": %d, "p999": %d}}\n',
    summary.requests, summary.duration, summary.bytes, table.concat(parts, ", "),
    e.connect, e.read, e.write, e.timeout,
    latency.min, latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))
end
