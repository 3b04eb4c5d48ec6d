-- PUT /v1/prospects/by-external-id/{id}: a durable upsert per request.
-- wrk ... -s bench/save.lua -- <authorization> <mode> <prefix> [count]
--   mode "new":    every request a new external id (inserts)
--   mode "repeat": ids drawn from <prefix>-1 … <prefix>-<count>, which exist,
--                  each request changing a field (updates)
local report = dofile((os.getenv("BENCH_DIR") or "bench") .. "/report.lua")
done = report.done

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  authorization, mode, prefix, count = args[1], args[2], args[3], tonumber(args[4] or "1000")
  sequence = 0
  math.randomseed(id * 7919 + os.time())
end

local template = '{"clubId":"c1","firstName":"Ada","lastName":"Lovelace","email":"ada.lovelace@example.com",'
  .. '"phones":{"mobile":"+1 555 0100"},"notes":"%s"}'

function request()
  sequence = sequence + 1
  local externalId
  if mode == "new" then
    externalId = string.format("%s-t%d-%d", prefix, id, sequence)
  else
    externalId = string.format("%s-%d", prefix, math.random(1, count))
  end
  local body = string.format(template, "visit " .. sequence)
  return wrk.format("PUT", "/v1/prospects/by-external-id/" .. externalId,
    { ["Authorization"] = authorization, ["Content-Type"] = "application/json" }, body)
end
