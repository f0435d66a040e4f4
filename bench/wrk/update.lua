-- PUT a random existing bench Patient (no If-Match: last writer wins).
local n = tonumber(os.getenv("CRS_BENCH_N") or "100000")
local f = io.open(os.getenv("CRS_BENCH_BODY"), "r")
local template = f:read("*a")
f:close()
request = function()
  local id = string.format("bench-%06d", math.random(1, n))
  local body = template:gsub('"id":%s*"[^"]*"', '"id": "' .. id .. '"', 1)
  return wrk.format("PUT", "/fhir/Patient/" .. id, {["Content-Type"] = "application/fhir+json"}, body)
end
