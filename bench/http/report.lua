-- wrk script: optional POST bodies, and a one-line JSON report at the end that bench/http reads.
local counter = 0
local threads = {}

function setup(thread)
   thread:set("thread_id", #threads)
   table.insert(threads, thread)
end

function init(args)
   -- POST_TEMPLATE: a body with "%s" where a unique UTC timestamp goes (readings must not collide).
   post_template = os.getenv("POST_TEMPLATE")
   base_epoch = tonumber(os.getenv("POST_BASE_EPOCH") or "0")
   if post_template ~= nil and post_template ~= "" then
      wrk.method = "POST"
      wrk.headers["Content-Type"] = "application/json"
   else
      post_template = nil
   end
end

function request()
   if post_template == nil then
      return wrk.format(nil)
   end
   counter = counter + 1
   local moment = base_epoch + (thread_id or 0) * 100000000 + counter
   return wrk.format(nil, nil, nil, string.format(post_template, os.date("!%Y-%m-%dT%H:%M:%SZ", moment)))
end

function done(summary, latency, requests)
   local errors = summary.errors
   io.write(string.format(
      'WRK_REPORT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "mean_us": %d, "max_us": %d, ' ..
      '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.mean, latency.max,
      errors.connect, errors.read, errors.write, errors.status, errors.timeout))
end
