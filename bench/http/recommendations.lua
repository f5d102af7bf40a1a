-- GET recommendations for random demo shoppers (user-00000 .. user-<users-1>).
-- Usage: wrk -t2 -c64 -d20s -s recommendations.lua http://127.0.0.1:8080 -- [users] [k]
local users = 1000
local k = 10
local counter = 0

function init(args)
  users = tonumber(args[1]) or users
  k = tonumber(args[2]) or k
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

function request()
  local user = math.random(0, users - 1)
  return wrk.format("GET", string.format("/v1/users/user-%05d/recommendations?k=%d", user, k))
end
