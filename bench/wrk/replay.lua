-- Replays Twilio-signed form posts, each exactly once, then stops.
--
--   wrk -t2 -c16 -d3600s --timeout 30s --latency -s bench/wrk/replay.lua URL -- PREFIX [LIMITS]
--
-- PREFIX.<n> holds thread n's requests, one a line: "<X-Twilio-Signature>\t<form body>", in the
-- order they must reach the server (bench/webhook_load.py writes them: each resident on one
-- thread, step-major, so a resident's next message is hundreds of requests after the last).
-- LIMITS ("120,118"): send only the first N of each thread's list (a round cut short elsewhere).
-- When a thread's list is exhausted its idle connections send nothing (an empty request), and
-- after the last response it stops and says so on stderr ("done <n> <received>"): wrk itself
-- only stops at -d, so the caller sends SIGINT once every thread is done. done() prints one
-- JSON line (prefixed "RESULT ") with the latency percentiles in microseconds.

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local limit = 0
  if args[2] and args[2] ~= "" then
    local i = 0
    for n in string.gmatch(args[2], "[^,]+") do
      if i == id then limit = tonumber(n) end
      i = i + 1
    end
  end
  reqs = {}
  for line in io.lines(args[1] .. "." .. id) do
    local sig, body = string.match(line, "^([^\t]*)\t(.*)$")
    reqs[#reqs + 1] = wrk.format("POST", "/twilio/messages", {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["X-Twilio-Signature"] = sig,
    }, body)
    if limit > 0 and #reqs >= limit then break end
  end
  total, sent, received, not_ok = #reqs, 0, 0, 0
  -- wrk calls thread 0's request() once before the run to check what it returns
  -- (script_verify_request), and sends nothing of it: that call must not use up a request.
  verifying = (id == 0)
end

function request()
  if verifying then
    verifying = false
    return reqs[1]
  end
  if sent >= total then
    return ""  -- nothing left: the connection stays idle instead of sending anything twice
  end
  sent = sent + 1
  return reqs[sent]
end

function response(status, headers, body)
  received = received + 1
  if status ~= 200 then not_ok = not_ok + 1 end
  if received == total then
    io.stderr:write(string.format("done %d %d\n", id, received))
    io.stderr:flush()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local received, not_ok = {}, 0
  for _, thread in ipairs(threads) do
    table.insert(received, tostring(thread:get("received")))
    not_ok = not_ok + thread:get("not_ok")
  end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "received": [%s], "not_ok": %d, "p50_us": %d, "p90_us": %d, ' ..
    '"p99_us": %d, "max_us": %d, "mean_us": %.1f, "errors": {"connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d}}\n',
    summary.requests, table.concat(received, ", "), not_ok,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
