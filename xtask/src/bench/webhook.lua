-- wrk script for `cargo xtask bench`: Adapty's webhook at saturation.
-- Arguments: MODE TEMPLATE SECRET RUN. MODE "event" posts TEMPLATE (an
-- event with @PROFILE@, @EVENT@, @USER@, @EMAIL@ and @TXN@ in it), each
-- request a new event of a new customer, numbered by wrk's thread and a
-- counter so no two are alike (a duplicate is kept once, which would
-- measure less than a new event). MODE "verify" posts Adapty's URL check,
-- `{}`, which the relay answers without its store: the listener's floor.

local threads = 0

function setup(thread)
  thread:set("thread_number", threads)
  threads = threads + 1
end

function init(args)
  mode, secret, run = args[1], args[3], tonumber(args[4])
  local file = assert(io.open(args[2], "rb"))
  template = file:read("*a")
  file:close()
  headers = { ["Authorization"] = secret, ["Content-Type"] = "application/json" }
  count = 0
end

function request()
  if mode == "verify" then
    return wrk.format("POST", nil, headers, "{}")
  end
  count = count + 1
  local name = string.format("ingest-%d-%d-%d", run, thread_number, count)
  local profile = string.format("30000000-0000-4000-8%03d-%02d%010d", run, thread_number, count)
  local transaction = string.format("9%03d%02d%010d", run, thread_number, count)
  local body = template
    :gsub("@PROFILE@", profile)
    :gsub("@EVENT@", name)
    :gsub("@USER@", name)
    :gsub("@EMAIL@", name .. "@example.com")
    :gsub("@TXN@", transaction)
  return wrk.format("POST", nil, headers, body)
end
