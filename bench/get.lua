-- Authenticated GETs over a list of paths, in a random order.
-- wrk ... -s bench/get.lua -- <authorization> <file with one path per line>
local report = dofile((os.getenv("BENCH_DIR") or "bench") .. "/report.lua")
done = report.done

local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

function init(args)
  authorization = args[1]
  paths = {}
  for line in io.lines(args[2]) do table.insert(paths, line) end
  math.randomseed(id * 104729 + os.time())
end

function request()
  return wrk.format("GET", paths[math.random(1, #paths)], { ["Authorization"] = authorization })
end
