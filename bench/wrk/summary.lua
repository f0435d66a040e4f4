-- GET /fhir/Patient/{nhs}/$summary (or another per-patient path) for the NHS
-- numbers in CRS_BENCH_IDS, each wrk thread from its own offset, stepping by
-- a prime so consecutive requests hit different patients. Headers (bearer
-- token, X-Permission-To-View) come from wrk -H.
--   CRS_BENCH_IDS     file of NHS numbers, one per line
--   CRS_BENCH_FORMAT  path with %s for the NHS number (default the $summary URL)
local ids = {}
for line in io.lines(os.getenv("CRS_BENCH_IDS")) do ids[#ids + 1] = line end
local format = os.getenv("CRS_BENCH_FORMAT") or "/fhir/Patient/%s/$summary"
local n = #ids
local step = 7919
if n % step == 0 then step = 7907 end
local threads = 0

setup = function(thread)
  threads = threads + 1
  thread:set("first", (threads - 1) * math.floor(n / 2) % n)
end

init = function()
  next_id = first or 0
end

request = function()
  next_id = (next_id + step) % n
  return wrk.format("GET", string.format(format, ids[next_id + 1]))
end
