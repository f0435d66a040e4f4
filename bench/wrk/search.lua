-- Search benchmark requests; CRS_SEARCH selects the query kind:
--   identifier | family-birthdate | patient-conditions | patient-observations
-- Values come from CRS_QUERIES (queries.tsv: nhs, family, birthDate).
local kind = os.getenv("CRS_SEARCH") or "identifier"
local rows = {}
for line in io.lines(os.getenv("CRS_QUERIES")) do
  local nhs, family, birth = line:match("([^\t]+)\t([^\t]+)\t([^\t]+)")
  if nhs then rows[#rows + 1] = {nhs, family, birth} end
end
local function esc(s) return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end)) end
request = function()
  local r = rows[math.random(1, #rows)]
  local path
  if kind == "identifier" then
    path = "/fhir/Patient?identifier=" .. esc("https://fhir.nhs.uk/Id/nhs-number|" .. r[1])
  elseif kind == "family-birthdate" then
    path = "/fhir/Patient?family=" .. esc(r[2]) .. "&birthdate=" .. r[3]
  elseif kind == "patient-observations" then
    path = "/fhir/Observation?patient=Patient/" .. r[1] .. "&_sort=-date&_count=100"
  else
    path = "/fhir/Condition?patient=Patient/" .. r[1] .. "&_sort=-onset-date&_count=100"
  end
  return wrk.format("GET", path)
end
