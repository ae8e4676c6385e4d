-- wrk's version of locustfile.py: the same pages and API, weights, movie ids, queries and
-- think time, sent by a load generator written in C, so the server gets the cores that
-- locust's Python would take on a 2-core machine. run_load.py (--generator wrk) makes the
-- viewers' profiles first (CSRF token, session cookie) and passes them in a file; each request
-- goes out as one of them, drawn at random.
--
--   wrk -t 1 -c 50 -d 60s -s viewer.lua http://127.0.0.1:PORT -- PROFILES LOW_S HIGH_S MAX SEED
--
-- PROFILES: one viewer a line, its Cookie header and CSRF token separated by a tab; LOW_S-HIGH_S
-- the think time; MAX the requests each thread answers at most (it stops then, whatever the
-- time left). Traffic goes to 127.0.0.1 only (run_load.py refuses any other host). done()
-- prints one JSON line.

local MOVIES = {1, 2, 3, 6, 10, 32, 47, 50, 110, 150, 260, 296, 318, 356, 380, 457, 480, 527,
                589, 593, 608, 1196, 1198, 1210, 2571, 2858, 2959, 4993, 5952, 7153, 58559, 79132}
local QUERIES = {"star", "matrix", "love", "dark", "toy", "godfather", "war", "heat", "alien"}
-- name, weight (the locustfile's @task weights)
local TASKS = {{"home", 2}, {"movie_page", 3}, {"search_page", 2}, {"movie_api", 3},
               {"search_api", 2}, {"mark_watched", 1}, {"feedback_list", 1}}

local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

local profiles, low_ms, high_ms, limit, total_weight = {}, 50, 150, 0, 0
-- globals, so done() can read them through thread:get
answered, bad_status = 0, 0

function init(args)
  for line in io.lines(args[1]) do
    local cookie, token = line:match("^([^\t]+)\t([^\t]+)$")
    if cookie then table.insert(profiles, {cookie = cookie, token = token}) end
  end
  if #profiles == 0 then error("no viewer profiles in " .. args[1]) end
  low_ms, high_ms = math.floor(tonumber(args[2]) * 1000), math.floor(tonumber(args[3]) * 1000)
  limit = tonumber(args[4])
  math.randomseed(tonumber(args[5]) + id)
  for _, task in ipairs(TASKS) do total_weight = total_weight + task[2] end
end

function delay()
  if high_ms <= 0 then return 0 end
  return math.random(low_ms, high_ms)
end

local function pick(list) return list[math.random(#list)] end

local function task_name()
  local roll = math.random(total_weight)
  for _, task in ipairs(TASKS) do
    roll = roll - task[2]
    if roll <= 0 then return task[1] end
  end
end

function request()
  local viewer = pick(profiles)
  local headers = {["Cookie"] = viewer.cookie}
  local name = task_name()
  if name == "home" then
    return wrk.format("GET", "/", headers)
  elseif name == "movie_page" then
    return wrk.format("GET", "/movies/" .. pick(MOVIES), headers)
  elseif name == "search_page" then
    return wrk.format("GET", "/search?q=" .. pick(QUERIES), headers)
  elseif name == "movie_api" then
    return wrk.format("GET", "/api/movies/" .. pick(MOVIES), headers)
  elseif name == "search_api" then
    return wrk.format("GET", "/api/movies/search?q=" .. pick(QUERIES), headers)
  elseif name == "mark_watched" then
    headers["X-CSRF-Token"] = viewer.token
    headers["Content-Type"] = "application/json"
    local body = '{"movie_id": ' .. pick(MOVIES) .. ', "kind": "watched"}'
    return wrk.format("POST", "/api/feedback", headers, body)
  else
    return wrk.format("GET", "/api/feedback", headers)
  end
end

function response(status, headers, body)
  answered = answered + 1
  if status >= 400 then bad_status = bad_status + 1 end
  if limit > 0 and answered >= limit then wrk.thread:stop() end
end

function done(summary, latency, requests)
  local answered_all, bad_all = 0, 0
  for _, thread in ipairs(threads) do
    answered_all = answered_all + (thread:get("answered") or 0)
    bad_all = bad_all + (thread:get("bad_status") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "answered": %d, "status_400_or_more": %d, ' ..
    '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d, ' ..
    '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, answered_all, bad_all, e.connect, e.read, e.write,
    e.timeout, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean))
end
