-- wrk script for bench/chain.py: one scenario per run, chosen by the first argument.
--   wrk ... -s bench/load.lua URL -- register|read|submit|gift RUN_ID [JSON_BODY [FIRST]]
-- FIRST: where this run's serials start (runs against one database must not repeat a number)
-- register: a valid, unique resident ID number per request (GB 11643 check character, as
--   services/members/id_numbers.py check_char); gift: a unique Idempotency-Key per request.
-- Every thread counts the statuses it got; done() prints them so a run of 4xx is never taken
-- for a fast one.
local threads = {}
local counter = 0

function setup(thread)
   thread:set("number", #threads)
   table.insert(threads, thread)
end

local WEIGHTS = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
local CHECK = "10X98765432"

local function id_number(first17)
   local sum = 0
   for i = 1, 17 do
      sum = sum + tonumber(first17:sub(i, i)) * WEIGHTS[i]
   end
   local r = sum % 11 + 1
   return first17 .. CHECK:sub(r, r)
end

local function json_string(s)
   return '"' .. s .. '"'
end

function init(args)
   mode, run_id, body = args[1], args[2] or "run", args[3]
   counter = tonumber(args[4] or "0")
   statuses = {}
   -- threads born on different decades never collide; 1000 numbers per birth day
   base_day = os.time({year = 1960 + 15 * number, month = 1, day = 1, hour = 12})
end

function request()
   counter = counter + 1
   if mode == "register" then
      local day = os.date("%Y%m%d", base_day + math.floor(counter / 1000) * 86400)
      local number = id_number(string.format("110105%s%03d", day, counter % 1000))
      local payload = body:gsub('"ID_NUMBER"', json_string(number))
      return wrk.format("POST", nil, nil, payload)
   elseif mode == "gift" then
      -- wrk.format takes these instead of wrk.headers (the -H ones), not in addition
      local headers = {["Idempotency-Key"] = string.format("%s-%d-%d", run_id, number, counter)}
      for name, value in pairs(wrk.headers) do
         headers[name] = value
      end
      return wrk.format("POST", nil, headers, body)
   elseif mode == "submit" then
      return wrk.format("POST", nil, nil, body)
   end
   return wrk.format("GET")
end

function response(status, headers, payload)
   statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
   local total = {}
   for _, thread in ipairs(threads) do
      local counted = thread:get("statuses")
      for status, n in pairs(counted) do
         total[status] = (total[status] or 0) + n
      end
   end
   local parts = {}
   for status, n in pairs(total) do
      table.insert(parts, string.format('"%d": %d', status, n))
   end
   io.write(string.format('BENCH {"requests": %d, "rps": %.2f, "p50_ms": %.2f, "p99_ms": %.2f, "statuses": {%s}}\n',
                          summary.requests, summary.requests / (summary.duration / 1e6),
                          latency:percentile(50) / 1000, latency:percentile(99) / 1000,
                          table.concat(parts, ", ")))
end
