-- The flood of scripts/soak.py's overload phase: wrk connections sending a Connector-like mix,
-- far more at once than the server admits, each pausing a random time (mean SOAK_DELAY_MS)
-- before its next request, so the flood offers about connections / delay requests per second
-- (0: back to back, as fast as answers come). Counts the statuses and the 503/429 answers
-- without Retry-After, and prints one line for soak.py to read.
-- Environment: SOAK_AUTH (the Authorization header value), SOAK_TAG (external id prefix),
-- SOAK_DELAY_MS.
local auth = os.getenv("SOAK_AUTH")
local tag = os.getenv("SOAK_TAG") or "flood"
local delay_ms = tonumber(os.getenv("SOAK_DELAY_MS") or "0")
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  counts = {}
  missing_retry_after = 0
  counter = 0
  math.randomseed(id * 7919)
end

local json = [[{"clubId":"club-00%d","firstName":"Flood%d","lastName":"Load","email":"flood.%s.%d.%d@example.com"%s}]]

request = function()
  counter = counter + 1
  local headers = { ["Authorization"] = auth }
  local r = math.random()
  if r < 0.35 then
    headers["Content-Type"] = "application/json"
    local body = string.format(json, 1 + counter % 2, counter, tag, id, counter, "")
    return wrk.format("PUT", string.format("/v1/prospects/by-external-id/F-%s-%d-%d", tag, id, counter), headers, body)
  elseif r < 0.50 then
    headers["Content-Type"] = "application/json"
    local body = string.format(json, 1 + counter % 2, counter, tag, id, counter,
      [[,"membershipStatus":"active","joinDate":"2025-03-01"]])
    return wrk.format("PUT", string.format("/v1/members/by-external-id/FM-%s-%d-%d", tag, id, counter), headers, body)
  elseif r < 0.75 then
    return wrk.format("GET", string.format("/v1/prospects?clubId=club-00%d&limit=20", 1 + counter % 2), headers)
  elseif r < 0.90 then
    return wrk.format("GET", "/v1/staff?email=coach1@example.com", headers)
  else
    return wrk.format("GET", "/v1/lead-sources?limit=20", headers)
  end
end

if delay_ms > 0 then
  -- Jittered so that the connections do not march in step.
  delay = function()
    return math.floor(math.random() * 2 * delay_ms)
  end
end

response = function(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
  if (status == 503 or status == 429) and headers["Retry-After"] == nil then
    missing_retry_after = missing_retry_after + 1
  end
end

done = function(summary, latency, requests)
  local totals, missing = {}, 0
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("counts")) do
      totals[status] = (totals[status] or 0) + count
    end
    missing = missing + thread:get("missing_retry_after")
  end
  local statuses = {}
  for status, count in pairs(totals) do
    table.insert(statuses, string.format("%d:%d", status, count))
  end
  table.sort(statuses)
  local e = summary.errors
  io.write(string.format(
    "FLOOD requests=%d seconds=%.3f p50_us=%d p99_us=%d max_us=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d missing_retry_after=%d statuses=%s\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.timeout, missing, table.concat(statuses, ",")))
end
