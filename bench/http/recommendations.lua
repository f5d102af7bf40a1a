-- GET recommendations for random users, with the read key from RECSYS_API_KEY.
-- Usage: RECSYS_API_KEY=... wrk -t2 -c64 -d20s -s recommendations.lua http://127.0.0.1:8080 -- [users] [k] [user-id-format]
--   users: ids 0..users-1 with the default format "user-%05d" (the demo shop's shoppers);
--   with "%d", ids 1..users (the numbering of the SASRec research files, e.g. Games).
local users = 1000
local k = 10
local format = "user-%05d"
local first = 0
local headers = {}

function init(args)
  users = tonumber(args[1]) or users
  k = tonumber(args[2]) or k
  format = args[3] or format
  first = (format == "%d") and 1 or 0
  headers["X-Api-Key"] = os.getenv("RECSYS_API_KEY") or ""
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

function request()
  local user = string.format(format, math.random(first, first + users - 1))
  return wrk.format("GET", string.format("/v1/users/%s/recommendations?k=%d", user, k), headers)
end

function response(status, headers, body)
  if status ~= 200 then
    print("unexpected status " .. status .. ": " .. body)
  end
end
