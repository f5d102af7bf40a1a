-- POST /v1/events at a steady rate: views of random items (1..<items>) by random users (1..<users>).
-- Each connection sends one batch every <interval> ms, so the rate is connections * batch * 1000 / interval.
-- Usage: wrk -t1 -c4 -d20s -s events.lua http://127.0.0.1:8080 -- <api-key> [batch] [interval-ms] [users] [items]
local api_key = ""
local batch = 100
local interval = 80
local users = 31013
local items = 23715
local prefix = ""
local counter = 0

function init(args)
  api_key = args[1] or ""
  batch = tonumber(args[2]) or batch
  interval = tonumber(args[3]) or interval
  users = tonumber(args[4]) or users
  items = tonumber(args[5]) or items
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  prefix = string.format("stream-%08x", math.random(0, 0x7fffffff))
end

function delay()
  return interval
end

function request()
  local now = os.date("!%Y-%m-%dT%H:%M:%SZ")
  local parts = {}
  for i = 1, batch do
    counter = counter + 1
    parts[i] = string.format('{"eventId":"%s-%d","userId":"%d","itemId":"%d","type":"view","timestamp":"%s"}',
      prefix, counter, math.random(1, users), math.random(1, items), now)
  end
  return wrk.format("POST", "/v1/events", { ["Content-Type"] = "application/json", ["X-Api-Key"] = api_key }, "[" .. table.concat(parts, ",") .. "]")
end

function response(status, headers, body)
  if status ~= 202 then
    print("unexpected status " .. status .. ": " .. body)
  end
end
