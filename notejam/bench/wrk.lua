-- wrk script for notejam/bench: one request shape per run, configured by environment,
-- and one JSON line of results at the end (rps, p50/p99 in milliseconds, errors).
--   NJ_SCENARIO  name printed in the result
--   NJ_METHOD    GET (default) or POST
--   NJ_BODY      request body for POST (form-encoded)
--   NJ_COOKIE    Cookie header (the signed-in session)

local scenario = os.getenv("NJ_SCENARIO") or "unnamed"
wrk.method = os.getenv("NJ_METHOD") or "GET"
local body = os.getenv("NJ_BODY")
if body and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end
local cookie = os.getenv("NJ_COOKIE")
if cookie and cookie ~= "" then
  wrk.headers["Cookie"] = cookie
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors
  io.write(string.format(
    '{"scenario":"%s","requests":%d,"seconds":%.2f,"rps":%.1f,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,' ..
    '"non_2xx_3xx":%d,"socket_errors":%d}\n',
    scenario, summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
