-- bench/scale.py's loads: PUT /v1/prospects/by-external-id/<prefix>-<n> with n
-- numbered without gaps across wrk's threads from <first>, so that a run of
-- several wrk calls writes <prefix>-1 … <prefix>-N.
-- wrk ... -s bench/scale.lua -- <authorization> <mode> <prefix> <first> <threads>
--   mode "load":   a valid prospect in club c1 … c10 (n mod 10), names of its own
--   mode "reject": a prospect of a club the client does not have: 422, kept as a sync error
local report = dofile((os.getenv("BENCH_DIR") or "bench") .. "/report.lua")
done = report.done

local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

function init(args)
  authorization, mode, prefix = args[1], args[2], args[3]
  first, threads = tonumber(args[4]), tonumber(args[5])
  sequence = 0
end

local template = '{"clubId":"%s","firstName":"Ada","lastName":"Lovelace %d","email":"ada.%d@example.com",'
  .. '"phones":{"mobile":"+1 555 %07d"},"notes":"loaded"}'

function request()
  local n = first + sequence * threads + (id - 1)
  sequence = sequence + 1
  local club = mode == "load" and ("c" .. (n % 10 + 1)) or "closed"
  return wrk.format("PUT", "/v1/prospects/by-external-id/" .. prefix .. "-" .. n,
    { ["Authorization"] = authorization, ["Content-Type"] = "application/json" },
    string.format(template, club, n, n, n % 10000000))
end
