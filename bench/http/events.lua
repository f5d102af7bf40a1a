-- POST /v1/events in batches of unique events for random demo shoppers and items.
-- Usage: wrk -t2 -c16 -d20s -s events.lua http://127.0.0.1:8080 -- <api-key> [batch] [users]
local api_key = ""
local batch = 100
local users = 1000
local prefix = ""
local counter = 0
local types = { "view", "view", "view", "view", "click", "click", "cart", "purchase" }

function init(args)
  api_key = args[1] or os.getenv("RECSYS_API_KEY") or ""
  batch = tonumber(args[2]) or batch
  users = tonumber(args[3]) or users
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  prefix = string.format("wrk-%08x", math.random(0, 0x7fffffff))
end

function request()
  local now = os.date("!%Y-%m-%dT%H:%M:%SZ")
  local parts = {}
  for i = 1, batch do
    counter = counter + 1
    parts[i] = string.format(
      '{"eventId":"%s-%d","userId":"user-%05d","itemId":"sku-%03d-%04d","type":"%s","timestamp":"%s"}',
      prefix, counter, math.random(0, users - 1), math.random(0, 23), math.random(0, 79), types[math.random(1, #types)], now)
  end
  local body = "[" .. table.concat(parts, ",") .. "]"
  return wrk.format("POST", "/v1/events", { ["Content-Type"] = "application/json", ["X-Api-Key"] = api_key }, body)
end

function response(status, headers, body)
  if status ~= 202 then
    print("unexpected status " .. status .. ": " .. body)
  end
end
