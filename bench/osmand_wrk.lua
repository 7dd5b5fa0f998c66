-- wrk script of `python -m bench.osmand --driver wrk`: GET /osmand?id=…&lat=…&lon=…&timestamp=… as a GPS app sends
-- it, cycling over its share of the bench's bound devices with a point in the bench's box each time.
-- Arguments (after wrk's `--`): device id prefix, number of devices, number of wrk processes, this one's index,
-- first timestamp (Unix milliseconds). Each request's timestamp is 1 ms after the one before, so a device's reports
-- are strictly newer each time and each one is applied, not dropped as already known (the caller starts the clock
-- far enough back that no report is in the future).
-- At the end prints one line `WRK_RESULT {json}` that bench/osmand.py reads.

local prefix, devices, shares, share, stamp
local counter = 0
local lat0, lon0, dlat, dlon = 30.20, 120.10, 0.15, 0.20

function init(args)
  prefix = args[1] or "bench-osmand-"
  devices = tonumber(args[2] or "2000")
  shares = tonumber(args[3] or "1")
  share = tonumber(args[4] or "0")
  stamp = tonumber(args[5] or tostring(os.time() * 1000 - 600000))
  math.randomseed(17 + share)
end

function request()
  counter = counter + 1
  local lat = lat0 + math.random() * dlat
  local lon = lon0 + math.random() * dlon
  local path = string.format(
    "/osmand?id=%s%d&lat=%.6f&lon=%.6f&timestamp=%.0f&speed=1.2&bearing=90&accuracy=8&batt=80",
    prefix, (counter % math.floor(devices / shares)) * shares + share + 1, lat, lon, stamp + counter)
  return wrk.format("GET", path)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "duration_us": %d, "non_2xx": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"timeout": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
