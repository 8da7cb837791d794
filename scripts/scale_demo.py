"""`make scale-demo`: the scale-out topology on this machine, until Ctrl-C.

HAProxy (deploy/haproxy.cfg) in front of N daphne processes of the console on the production
settings, the machine's PostgreSQL (a database made for this run) and Redis (a key prefix made
for this run), and the sandbox served over HTTP in its own process as the console's AWS
(`DASHBOARD_BACKEND=aws`, `AWS_ENDPOINT_URL`), seeded with the demo world. Prints the URL and
how to sign in; Ctrl-C stops every process and removes the database and the keys (`--keep`
leaves them, and the logs, for a look afterwards).

    .venv/bin/python scripts/scale_demo.py [--processes 3] [--port 8080] [--host 127.0.0.1]

PostgreSQL: CLUSTER_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test: a server
where that user may create databases). Redis: CLUSTER_REDIS_URL (default
redis://127.0.0.1:6379/0). Settings of the console and the sandbox in the environment
(STREAM_*, LIVE_*, SANDBOX_*, CHAT_WAIT_SECONDS, ...) are passed on to them.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.cluster_support import Cluster  # noqa: E402

# Settings a person may want to try on the demo (README "Configuration").
PASSED_ON = ("STREAM_", "LIVE_", "SANDBOX_", "CHAT_", "AGENTCORE_", "AWS_EXECUTOR_", "SESSION_")


def _settings_from_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.startswith(PASSED_ON)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=3, help="daphne processes (3)")
    parser.add_argument("--port", type=int, default=8080, help="the proxy's port (8080)")
    parser.add_argument("--host", default="127.0.0.1", help="the proxy's address (127.0.0.1)")
    parser.add_argument(
        "--keep", action="store_true", help="keep the database, the Redis keys and the logs"
    )
    args = parser.parse_args()

    settings = _settings_from_environment()
    sandbox = {k: v for k, v in settings.items() if k.startswith("SANDBOX_")}
    cluster = Cluster(
        args.processes,
        env=settings,
        sandbox_env=sandbox,
        port=args.port,
        host=args.host,
        seed=True,
        keep=args.keep,
        log_level=os.environ.get("LOG_LEVEL", "INFO"),
    )
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    print(
        f"Starting {args.processes} console processes behind HAProxy, the sandbox server, "
        "a database and the demo world (about 20 s)…",
        flush=True,
    )
    try:
        cluster.start()
    except Exception as exc:
        print(f"\nCould not start the demo: {exc}", file=sys.stderr)
        print(
            "PostgreSQL and Redis must be reachable (CLUSTER_DATABASE_URL, CLUSTER_REDIS_URL) "
            "and haproxy installed (scripts/install_haproxy.sh).",
            file=sys.stderr,
        )
        return 1
    try:
        print("\n" + cluster.describe() + "\n\n  Stop with Ctrl-C.\n", flush=True)
        reported: set[str] = set()
        while not stopping:
            # A process that dies (a crash, or one killed by hand to watch the others take
            # over) is reported once; the proxy's health checks take it out meanwhile.
            for process in [*cluster.daphnes, cluster.sandbox, cluster.proxy]:
                if process is not None and not process.alive() and process.name not in reported:
                    reported.add(process.name)
                    print(f"  {process.name} exited; its log: {process.log_path}", flush=True)
            time.sleep(0.5)
    finally:
        print("Stopping…", flush=True)
        cluster.stop()
        if args.keep:
            print(f"Kept database {cluster.database}, keys {cluster.redis_prefix}:*, logs in")
            print(f"{cluster.workdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
