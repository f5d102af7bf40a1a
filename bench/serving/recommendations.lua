-- GET recommendations for random users with ids 1..<users> (the SASRec files' numbering).
-- Usage: wrk -t2 -c64 -d20s -s recommendations.lua http://127.0.0.1:8080 -- [users] [k]
local users = 31013
local k = 10

function init(args)
  users = tonumber(args[1]) or users
  k = tonumber(args[2]) or k
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

function request()
  return wrk.format("GET", string.format("/v1/users/%d/recommendations?k=%d", math.random(1, users), k))
end

function response(status, headers, body)
  if status ~= 200 then
    print("unexpected status " .. status .. ": " .. body)
  end
end
