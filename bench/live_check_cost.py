"""What the live-state check of assign.lua / claim.lua costs Redis per call: the marker compared with the run id
read inside the script (`INFO server`, as the scripts do) against the same compare with the id passed in ARGV
(the alternative the review named). Redis's own figure, `INFO commandstats` usec_per_call of EVALSHA, over
--calls pipelined calls each, twice, on REDIS_URL's db (one key, deleted after). Prints JSON.

    .venv/bin/python -m bench.live_check_cost [--calls 20000]
"""

from __future__ import annotations

import argparse
import json
import os

import redis

IN_SCRIPT = ("if redis.call('GET', KEYS[1]) ~= string.match(redis.call('INFO', 'server'), 'run_id:(%x+)') "
             "then return 0 end return 1")
IN_ARGV = "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end return 1"
KEY = "gridcmd:bench:live-check"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=20_000)
    args = ap.parse_args()
    r = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    run_id = r.info("server")["run_id"]
    r.set(KEY, run_id)
    out: dict[str, list[float]] = {"info_in_script_us": [], "id_in_argv_us": []}
    try:
        for _ in range(2):
            for name, source, argv in (("info_in_script_us", IN_SCRIPT, []), ("id_in_argv_us", IN_ARGV, [run_id])):
                script = r.register_script(source)
                script(keys=[KEY], args=argv)
                r.config_resetstat()  # commandstats from here: this loop's calls only
                pipe = r.pipeline(transaction=False)
                for _ in range(args.calls):
                    script(keys=[KEY], args=argv, client=pipe)
                if not all(x == 1 for x in pipe.execute()):
                    raise SystemExit("the marker did not match")
                out[name].append(r.info("commandstats")["cmdstat_evalsha"]["usec_per_call"])
    finally:
        r.delete(KEY)
    print(json.dumps({"calls": args.calls, **out}))


if __name__ == "__main__":
    main()
