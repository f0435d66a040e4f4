-- GET a random bench Patient by id.
local n = tonumber(os.getenv("CRS_BENCH_N") or "100000")
request = function()
  return wrk.format("GET", string.format("/fhir/Patient/bench-%06d", math.random(1, n)))
end
