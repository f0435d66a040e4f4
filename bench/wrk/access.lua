-- GET resources by id, walking through the loaded ids: each wrk thread starts
-- at its own offset and steps by a prime, so consecutive requests hit
-- different rows and a run covers many ids. Headers (the bearer token,
-- X-Permission-To-View) come from wrk -H, so the same script serves the
-- baseline and the access-controlled run.
--   CRS_BENCH_PATH  path prefix, e.g. /fhir/AllergyIntolerance/allergy-
--   CRS_BENCH_N     ids run 1..N, formatted %06d after the prefix
--   CRS_BENCH_ONE   if set, request only this id (a single-id figure)
--   CRS_BENCH_IDS   with prefix /fhir/Patient/: the file of Patient ids (NHS numbers)
--   CRS_BENCH_FORMAT  instead of a prefix: a path with %s for each id of
--                   CRS_BENCH_IDS, e.g. /fhir/Patient/%s/$summary (N: the ids)
local prefix = os.getenv("CRS_BENCH_PATH") or "/fhir/AllergyIntolerance/allergy-"
local format = os.getenv("CRS_BENCH_FORMAT")
local ids = nil
if prefix == "/fhir/Patient/" or format then
  ids = {}
  for line in io.lines(os.getenv("CRS_BENCH_IDS")) do ids[#ids + 1] = line end
end
local n = tonumber(os.getenv("CRS_BENCH_N") or "100000")
if format then n = #ids end
local one = os.getenv("CRS_BENCH_ONE")
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
  if one and one ~= "" then
    return wrk.format("GET", prefix .. one)
  end
  next_id = (next_id + step) % n
  if format then return wrk.format("GET", string.format(format, ids[next_id + 1])) end
  if ids then return wrk.format("GET", prefix .. ids[next_id + 1]) end
  return wrk.format("GET", string.format("%s%06d", prefix, next_id + 1))
end
