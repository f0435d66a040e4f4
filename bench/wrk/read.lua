-- GET a random bench Patient by id (NHS numbers listed in CRS_BENCH_IDS).
local function load_ids()
  local path = os.getenv("CRS_BENCH_IDS")
  local ids = {}
  for line in io.lines(path) do ids[#ids + 1] = line end
  return ids
end
local ids = load_ids()
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "pace.lua")  -- CRS_RATE
request = function()
  return wrk.format("GET", "/fhir/Patient/" .. ids[math.random(1, #ids)])
end
