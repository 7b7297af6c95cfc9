-- bench/wrk/report.lua: prints one machine-readable line (BENCH_JSON {...}) after wrk's own report.
-- With BENCH_DELAY_MS set, each connection waits a random 0..2x that many ms (mean: that) before its next request:
-- a paced, fixed-rate-ish load (wrk2 is not packaged by Debian). Latency is still timed from each request's write.
local pace = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
if pace and pace > 0 then
  math.randomseed(os.time())
  function delay()
    return math.random(0, 2 * pace)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d,"mean":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean))
end
