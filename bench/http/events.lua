-- POST /v1/events in batches of unique events.
-- Usage: wrk -t2 -c16 -d20s -s events.lua http://127.0.0.1:8080 -- <api-key> [batch] [users] [interval-ms] [items]
--   Without items: the demo shop (shoppers user-00000.., items sku-ccc-iiii, mixed behaviour types).
--   With items: numbered ids as in the SASRec research files (users 1..users, items 1..items), views only.
--   interval-ms > 0 makes each connection send one batch per interval: a steady rate of
--   connections * batch * 1000 / interval events/s (less the request's own latency).
local api_key = ""
local batch = 100
local users = 1000
local interval = 0
local items = nil
local prefix = ""
local counter = 0
local types = { "view", "view", "view", "view", "click", "click", "cart", "purchase" }

function init(args)
  api_key = args[1] or os.getenv("RECSYS_API_KEY") or ""
  batch = tonumber(args[2]) or batch
  users = tonumber(args[3]) or users
  interval = tonumber(args[4]) or interval
  items = tonumber(args[5])
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  prefix = string.format("wrk-%08x", math.random(0, 0x7fffffff))
end

function delay()
  return interval
end

local function event(now)
  counter = counter + 1
  if items then
    return string.format('{"eventId":"%s-%d","userId":"%d","itemId":"%d","type":"view","timestamp":"%s"}',
      prefix, counter, math.random(1, users), math.random(1, items), now)
  end
  return string.format('{"eventId":"%s-%d","userId":"user-%05d","itemId":"sku-%03d-%04d","type":"%s","timestamp":"%s"}',
    prefix, counter, math.random(0, users - 1), math.random(0, 23), math.random(0, 79), types[math.random(1, #types)], now)
end

function request()
  local now = os.date("!%Y-%m-%dT%H:%M:%SZ")
  local parts = {}
  for i = 1, batch do
    parts[i] = event(now)
  end
  return wrk.format("POST", "/v1/events", { ["Content-Type"] = "application/json", ["X-Api-Key"] = api_key }, "[" .. table.concat(parts, ",") .. "]")
end

function response(status, headers, body)
  if status ~= 202 then
    print("unexpected status " .. status .. ": " .. body)
  end
end
