-- wrk script for bench/web.py: one-click unsubscribe POSTs, each to a distinct subscriber's URL.
--
--   wrk -t T -c C -d D -s bench/web_unsubscribe.lua http://127.0.0.1:PORT -- PATHS_FILE
--
-- PATHS_FILE holds one /unsubscribe/{token} path per line. Thread i of T takes lines i, i+T, i+2T...
-- in order; a thread that runs out starts its share again and counts those requests as replays.
-- Each response is checked: status 200 and a body saying "You are unsubscribed" (a fresh unsubscribe)
-- or "already unsubscribed" (a replay). done() prints one line of JSON that bench/web.py reads.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  paths, position, replays, fresh, already, bad_status, bad_body = {}, 0, 0, 0, 0, 0, 0
  local share, line_number = {}, 0
  for line in io.lines(args[1]) do
    if line ~= "" then
      if line_number % tonumber(args[2]) == index then
        table.insert(share, line)
      end
      line_number = line_number + 1
    end
  end
  paths = share
  headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
end

function request()
  position = position + 1
  if position > #paths then
    replays = replays + 1
  end
  local path = paths[((position - 1) % #paths) + 1]
  return wrk.format("POST", path, headers, "List-Unsubscribe=One-Click")
end

function response(status, _headers, body)
  if status ~= 200 then
    bad_status = bad_status + 1
  elseif string.find(body, "You are unsubscribed", 1, true) then
    fresh = fresh + 1
  elseif string.find(body, "already unsubscribed", 1, true) then
    already = already + 1
  else
    bad_body = bad_body + 1
  end
end

function done(summary, latency, _requests)
  local totals = { fresh = 0, already = 0, bad_status = 0, bad_body = 0, replays = 0, sent = 0 }
  for _, thread in ipairs(threads) do
    totals.fresh = totals.fresh + thread:get("fresh")
    totals.already = totals.already + thread:get("already")
    totals.bad_status = totals.bad_status + thread:get("bad_status")
    totals.bad_body = totals.bad_body + thread:get("bad_body")
    totals.replays = totals.replays + thread:get("replays")
    totals.sent = totals.sent + thread:get("position")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, '
      .. '"status": %d, "timeout": %d, "fresh": %d, "already": %d, "bad_status": %d, "bad_body": %d, '
      .. '"replays_sent": %d, "sent": %d, "p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    totals.fresh, totals.already, totals.bad_status, totals.bad_body, totals.replays, totals.sent,
    latency:percentile(50), latency:percentile(99), latency.max))
end
