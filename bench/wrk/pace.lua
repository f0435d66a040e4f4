-- Paced load, loaded by the other scripts. Unset, each connection sends its
-- next request as soon as the last is answered (wrk's default: the
-- server's saturation rate). With CRS_RATE=R, the connections (CRS_CONNECTIONS,
-- default 16: give wrk's -c) pause between requests for exponentially
-- distributed times averaging CONNECTIONS/R seconds, so that the requests
-- arrive roughly as a Poisson stream of R per second (a little less: the
-- pause follows the answer, and wrk rounds it down to whole milliseconds).
-- Quote the rate wrk reports, not R.
local rate = tonumber(os.getenv("CRS_RATE") or "")
if rate and rate > 0 then
  local mean_ms = 1000 * tonumber(os.getenv("CRS_CONNECTIONS") or "16") / rate
  delay = function() return -math.log(1 - math.random()) * mean_ms end
end
