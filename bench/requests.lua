-- wrk script for every page the load benchmark measures (bench/run.py).
--
--   wrk ... -s bench/requests.lua http://127.0.0.1:8765 -- SLOTS_FILE THREADS
--
-- SLOTS_FILE holds one request a line: method, path, Cookie header and form body,
-- separated by tabs (the last two may be empty). Each wrk thread takes its own share
-- of the lines and sends them in turn, so that connections answering surveys each
-- write to a survey of their own rather than queue for one row's lock. A file of one
-- line (a page seen by one signed-in person) is sent by every thread.
-- When the run ends, one JSON line with the numbers the harness reads.

local started = 0

function setup(thread)
  thread:set("id", started)
  started = started + 1
end

function init(args)
  local threads = tonumber(args[2])
  local all = {}
  for line in io.lines(args[1]) do
    local method, path, cookie, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)$")
    local headers = {}
    if cookie ~= "" then
      headers["Cookie"] = cookie
    end
    if body ~= "" then
      headers["Content-Type"] = "application/x-www-form-urlencoded"
    else
      body = nil
    end
    all[#all + 1] = wrk.format(method, path, headers, body)
  end
  mine = {}
  for n, prepared in ipairs(all) do
    if #all < threads or (n - 1) % threads == id then
      mine[#mine + 1] = prepared
    end
  end
  turn = 0
end

function request()
  turn = turn % #mine + 1
  return mine[turn]
end

done = function(summary, latency, requests)
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "errors": %d, "non2xx": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
