-- Patient trace benchmark requests; CRS_TRACE selects the kind:
--   exact       family + given + birthdate + gender, _max-results=10
--   fuzzy       the same with _fuzzy-match=true
--   fuzzy-error fuzzy, with two middle letters of the family name swapped
--               and day and month of birth exchanged where possible
--   fuzzy-year  fuzzy, born a year later than on record (the trace's third
--               query, a year either side, finds the patient)
-- Values come from CRS_TRACE_QUERIES (family, given, birthDate, gender, postcode).
local kind = os.getenv("CRS_TRACE") or "exact"
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "pace.lua")  -- CRS_RATE
local rows = {}
for line in io.lines(os.getenv("CRS_TRACE_QUERIES")) do
  local f, g, b, s, p = line:match("([^\t]+)\t([^\t]+)\t([^\t]+)\t([^\t]+)\t([^\t]+)")
  if f then rows[#rows + 1] = {f, g, b, s, p} end
end
local function esc(s) return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end)) end
request = function()
  local r = rows[math.random(1, #rows)]
  local family, birth = r[1], r[3]
  if kind == "fuzzy-error" then
    if #family >= 5 then family = family:sub(1, 2) .. family:sub(4, 4) .. family:sub(3, 3) .. family:sub(5) end
    local y, m, d = birth:match("(%d+)-(%d+)-(%d+)")
    if d and tonumber(d) <= 12 then birth = y .. "-" .. d .. "-" .. m end
  elseif kind == "fuzzy-year" then
    birth = tostring(tonumber(birth:sub(1, 4)) + 1) .. birth:sub(5)
  end
  local path = "/fhir/Patient?family=" .. esc(family) .. "&given=" .. esc(r[2]) ..
               "&birthdate=" .. birth .. "&gender=" .. r[4] .. "&_max-results=10"
  if kind ~= "exact" then
    path = path .. "&_fuzzy-match=true&address-postalcode=" .. esc(r[5])
  end
  return wrk.format("GET", path)
end
