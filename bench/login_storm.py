"""Login storm: does the readings list stay fast while many clients log in at once?

    .venv/bin/python -m bench.login_storm                 # 20 login connections, 8 s per run
    .venv/bin/python -m bench.login_storm --logins 40 --cap 0   # 0: no cap on password checks at once

With homelog under gunicorn (production settings, the data of bench/http), it measures the readings list at 10
connections alone, then again while `--logins` connections send logins (half with the right password, half
with a wrong one, each from addresses of its own through X-Forwarded-For as a proxy would set it), and prints
both p99s with their ratio (target <= 2x) and how the logins were answered: 200/401, 503 with Retry-After
when every password-check slot is taken, or not at all within wrk's timeout (target: none). `--cap 0`
measures the same without the cap (accounts/hashers.py), as the baseline of the same run.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from bench.http.__main__ import (
    EMAIL,
    PASSWORD,
    Endpoint,
    Server,
    access_token,
    prepare_database,
    production_environment,
    seed,
)

HERE = Path(__file__).resolve().parent
# wrk's Lua: a login body (right or wrong password) and a client address of its own per request.
LOGIN_SCRIPT = """
local counter, wrong = 0, os.getenv("WRONG") == "1"
function request()
   counter = counter + 1
   local body = string.format('{"username": "%s", "password": "%s"}', os.getenv("EMAIL"),
      wrong and "not the password" or os.getenv("PASSWORD"))
   local address = string.format("10.%d.%d.%d", math.random(0, 255), math.random(0, 255), counter % 256)
   local headers = {["Content-Type"] = "application/json", ["X-Forwarded-For"] = address,
      ["X-Forwarded-Proto"] = "https"}
   return wrk.format("POST", nil, headers, body)
end
function done(summary, latency, requests)
   local errors = summary.errors
   io.write(string.format(
      'WRK_REPORT {"requests": %d, "non2xx": %d, "timeout": %d, "connect": %d, "read": %d}\\n',
      summary.requests, errors.status, errors.timeout, errors.connect, errors.read))
end
"""


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/homelog_prod_bench")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/6")
    parser.add_argument("--port", type=int, default=8381)
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--logins", type=int, default=20, help="connections sending logins")
    parser.add_argument("--cap", type=int, help="PASSWORD_CHECKS_AT_ONCE (0: no cap); the settings' default")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk")

    env = production_environment(args.database, args.redis, args.port)
    # Every login is counted by the failed-login limit, per email and per address; raised so that what is
    # measured is the password checks, not the limit's 429s.
    env["LOGIN_FAILURE_RATE"] = "1000000/min"
    if args.cap is not None:
        env["PASSWORD_CHECKS_AT_ONCE"] = str(args.cap)
    os.environ.update(env)
    prepare_database(args.database, env)
    import django

    django.setup()
    ids = seed(reseed=False)
    token = access_token(ids["user"])
    readings = Endpoint("readings-100", f"/api/sources/{ids['sources'][0]}/readings?limit=100")

    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LOGIN_SCRIPT)
    with Server("homelog", env, args.port) as server:
        alone = server.load(readings, 10, args.duration, token)
        storms = []

        def storm(wrong):
            command = ["wrk", "-t1", f"-c{args.logins // 2}", f"-d{args.duration + 2}s", "--timeout", "5s"]
            command += ["-s", script.name, server.url(Endpoint("login", "/api/auth/login"))]
            storm_env = {**os.environ, "EMAIL": EMAIL, "PASSWORD": PASSWORD, "WRONG": "1" if wrong else "0"}
            with tempfile.TemporaryFile("w+") as out:
                process = subprocess.Popen(command, env=storm_env, stdout=out, text=True)
                # wait4: the CPU the storm's own client used, on the same cores as the server.
                _, _, usage = os.wait4(process.pid, 0)
                out.seek(0)
                output = out.read()
            line = next(line for line in output.splitlines() if line.startswith("WRK_REPORT"))
            report = json.loads(line.split(" ", 1)[1])
            report["cpu_seconds"] = usage.ru_utime + usage.ru_stime
            storms.append((wrong, report))

        threads = [threading.Thread(target=storm, args=(wrong,)) for wrong in (False, True)]
        for thread in threads:
            thread.start()
        during = server.load(readings, 10, args.duration, token)
        for thread in threads:
            thread.join()

    cap = "none" if args.cap == 0 else (args.cap or "default")
    print(f"# password checks at once: {cap}; {args.logins} login connections; {args.duration} s per run")
    for name, result in (("alone", alone), ("during the storm", during)):
        print(
            f"readings-100 c=10 {name:<17} {result.rate:8.1f} req/s  p50 {result.p50_ms:6.1f} ms  "
            f"p99 {result.p99_ms:6.1f} ms  errors {result.errors}"
        )
    ratio = during.p99_ms / alone.p99_ms
    print(f"p99 during the storm / alone: {ratio:.2f}x (target <= 2)")
    for wrong, report in sorted(storms):
        kind = "wrong password" if wrong else "right password"
        seconds = args.duration + 2
        answered, refused, timed_out = report["requests"], report["non2xx"], report["timeout"]
        cpu = report["cpu_seconds"]
        print(
            f"logins, {kind}: {answered} answered in {seconds} s ({answered / seconds:.1f}/s), {refused} of "
            f"them not 2xx (401, or 503 with Retry-After), {timed_out} timed out (target 0); the client "
            f"sending them used {cpu:.1f} s of CPU ({cpu / seconds:.0%} of a core)"
        )


if __name__ == "__main__":
    main()
