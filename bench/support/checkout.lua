-- wrk script: POSTs checkouts (body from CK_BODY); each thread stops after CK_QUOTA answers (0: it runs for all of -d) and writes
-- every VM name it was given (or "!<status>" for a refusal) to CK_OUT-<thread>.txt, for the double-hand-out check,
-- then "#us <microseconds from its start to its last answer>".
local ffi = require("ffi")
ffi.cdef([[
  typedef struct { long tv_sec; long tv_nsec; } timespec;
  int clock_gettime(int clk, timespec *ts);
]])
local CLOCK_MONOTONIC = 1
local ts = ffi.new("timespec")

-- wrk's own rate divides by the whole -d duration; a thread that stops early times itself.
local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) * 1000000 + tonumber(ts.tv_nsec) / 1000
end

local threads = 0

function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

function init(args)
  quota = tonumber(os.getenv("CK_QUOTA") or "0")
  out = io.open(os.getenv("CK_OUT") .. "-" .. id .. ".txt", "w")
  answered = 0
  started = now_us()
  wrk.method = "POST"
  wrk.body = os.getenv("CK_BODY")
  wrk.headers["Content-Type"] = "application/json"
end

function response(status, headers, body)
  if status == 200 then
    for name in string.gmatch(body, '"name":"([^"]+)"') do
      out:write(name, "\n")
    end
  else
    out:write("!", status, "\n")
  end
  answered = answered + 1
  if answered % 64 == 0 then
    out:flush()
  end
  if quota > 0 and answered == quota then
    out:write("#us ", string.format("%d", now_us() - started), "\n")
    out:flush()
    wrk.thread:stop()
  end
end
