-- POST a new Patient (server-assigned id).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/fhir+json"
local f = io.open(os.getenv("CRS_BENCH_BODY"), "r")
local body = f:read("*a")
f:close()
body = body:gsub('"id":%s*"[^"]*",?', "", 1)
-- Without an NHS number the server allocates one (a fixed one would collide).
body = body:gsub('"identifier":%s*%b[],?', "", 1)
wrk.body = body
