-- PUT a random existing bench AllergyIntolerance (allergy-000001 ...
-- allergy-N; no If-Match: last writer wins). Patients are not used: PDS rules
-- make every Patient update name the version it replaces (If-Match).
local n = tonumber(os.getenv("CRS_BENCH_N") or "100000")
local f = io.open(os.getenv("CRS_BENCH_BODY"), "r")
local template = f:read("*a")
f:close()
request = function()
  local id = string.format("allergy-%06d", math.random(1, n))
  local body = template:gsub('"id":%s*"[^"]*"', '"id": "' .. id .. '"', 1)
  -- Passing a headers table replaces wrk.headers, so copy them (wrk -H: the token).
  local headers = {["Content-Type"] = "application/fhir+json"}
  for k, v in pairs(wrk.headers) do headers[k] = v end
  return wrk.format("PUT", "/fhir/AllergyIntolerance/" .. id, headers, body)
end
