-- wrk script for the benchmark: POSTs a SOAP envelope and checks every answer.
--
-- Environment (set by bench/run.py):
--   BENCH_BODY     a file holding the whole request body, sent as is; or
--   BENCH_PREFIX, BENCH_SUFFIX  the body around one PNG chunk, remade per request
--                  so that every upload is a different image (tEXt chunk with a
--                  counter, CRC included; its base64 is 36 characters)
--   BENCH_RUN      a number unique to this run (part of the counter)
--   BENCH_EXPECT   text every correct response body contains
--   BENCH_CONTENT_TYPE, BENCH_AUTHORIZATION  request headers
-- Prints one JSON line at the end: requests, seconds, latency percentiles (µs),
-- and errors (transport, non-200 status, a body without BENCH_EXPECT).
local bit = require("bit")

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local data = f:read("*a")
  f:close()
  return data
end

local expect = os.getenv("BENCH_EXPECT")
local body_path = os.getenv("BENCH_BODY")
local prefix, suffix
if body_path then
  wrk.body = slurp(body_path)
else
  prefix = slurp(os.getenv("BENCH_PREFIX"))
  suffix = slurp(os.getenv("BENCH_SUFFIX"))
end
wrk.method = "POST"
wrk.headers["Content-Type"] = os.getenv("BENCH_CONTENT_TYPE")
local authorization = os.getenv("BENCH_AUTHORIZATION")
if authorization and authorization ~= "" then
  wrk.headers["Authorization"] = authorization
end

-- CRC-32 (PNG's), table-driven
local crc_table = {}
for i = 0, 255 do
  local c = i
  for _ = 1, 8 do
    if bit.band(c, 1) == 1 then
      c = bit.bxor(0xEDB88320, bit.rshift(c, 1))
    else
      c = bit.rshift(c, 1)
    end
  end
  crc_table[i] = c
end
local function crc32(s)
  local c = 0xFFFFFFFF
  for i = 1, #s do
    c = bit.bxor(crc_table[bit.band(bit.bxor(c, s:byte(i)), 0xFF)], bit.rshift(c, 8))
  end
  return bit.bxor(c, 0xFFFFFFFF)
end

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function base64(s) -- #s is a multiple of 3
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + b * 256 + c
    for shift = 18, 0, -6 do
      local k = math.floor(n / 2 ^ shift) % 64
      out[#out + 1] = B64:sub(k + 1, k + 1)
    end
  end
  return table.concat(out)
end

local function be32(n)
  return string.char(
    bit.band(bit.rshift(n, 24), 255), bit.band(bit.rshift(n, 16), 255),
    bit.band(bit.rshift(n, 8), 255), bit.band(n, 255))
end

local threads = {}
local thread_number = 0

function setup(thread)
  thread_number = thread_number + 1
  thread:set("number", thread_number)
  table.insert(threads, thread)
end

-- globals, so that done() can read them from each thread
counter = 0
bad_status = 0
bad_body = 0

function request()
  if not prefix then
    return wrk.format()
  end
  counter = counter + 1
  -- "b" NUL, then 13 digits: run (4), thread (1), request (8)
  local data = string.format("b\0%04d%d%08d", tonumber(os.getenv("BENCH_RUN")) % 10000,
    number % 10, counter)
  local chunk = be32(#data) .. "tEXt" .. data .. be32(crc32("tEXt" .. data))
  return wrk.format(nil, nil, nil, prefix .. base64(chunk) .. suffix)
end

function response(status, headers, body)
  if status ~= 200 then
    bad_status = bad_status + 1
  elseif not body:find(expect, 1, true) then
    bad_body = bad_body + 1
  end
end

function done(summary, latency, requests)
  local status, body = 0, 0
  for _, thread in ipairs(threads) do
    status = status + thread:get("bad_status")
    body = body + thread:get("bad_body")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH-RESULT {"requests": %d, "seconds": %.6f, "p50_us": %d, "p99_us": %d,'
      .. ' "max_us": %d, "transport_errors": %d, "bad_status": %d, "bad_body": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    latency.max, e.connect + e.read + e.write + e.timeout, status, body))
end
