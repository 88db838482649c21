"""``python -m kepler_splunk_testing``: run the Splunk test server in its own process.

Prints one JSON line (url, host, port, scheme, username, password, token, ca_file, version,
indexes, pid) once the server accepts connections, then serves until SIGTERM/SIGINT, until
``--max-seconds`` pass, or (with ``--exit-with-parent``) until the process that started it dies.
Kepler's benchmark uses this so that the server's CPU time is not counted as the client's.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["main"]


def _spec(text: str) -> tuple[str, str]:
    name, separator, value = text.partition("=")
    if not separator or not name or not value:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def _read_table(path: Path) -> Any:
    import pandas as pd

    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    if suffix == ".csv":
        return pd.read_csv(path)
    if suffix in (".jsonl", ".ndjson"):
        return pd.read_json(path, lines=True)
    if suffix == ".json":
        return pd.read_json(path)
    raise SystemExit(f"--data {path}: expected a .parquet, .csv, .json or .jsonl file")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m kepler_splunk_testing",
        description="Run a local Splunk REST API (management port) test server.",
    )
    parser.add_argument("--port", type=int, default=0, help="TCP port (0: any free port)")
    parser.add_argument("--https", action="store_true", help="serve TLS with a fresh test CA")
    parser.add_argument("--splunk-version", default="9.3.0", help="version reported (9.3.0)")
    parser.add_argument("--username", default="admin")
    parser.add_argument("--password", default="changeme")
    parser.add_argument("--token", default="kepler-test-token", help="Bearer token for admin")
    parser.add_argument(
        "--data",
        type=_spec,
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="event index NAME from a .parquet/.csv/.json(l) file with a _time column",
    )
    parser.add_argument(
        "--metric-data",
        type=_spec,
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="metric index NAME from a file",
    )
    parser.add_argument(
        "--generate",
        type=_spec,
        action="append",
        default=[],
        metavar="NAME=ROWS",
        help="event index NAME with ROWS rows of generate_sensor_data()",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for --generate (0)")
    parser.add_argument("--delay", type=float, default=0.05, help="job dispatch delay, seconds")
    parser.add_argument("--max-result-rows", type=int, default=50_000)
    parser.add_argument("--export-preview-sets", type=int, default=1)
    parser.add_argument("--max-seconds", type=float, default=None, help="stop after this long")
    parser.add_argument(
        "--exit-with-parent", action="store_true", help="stop when the parent process exits"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from kepler_splunk_testing.sensors import generate_sensor_data
    from kepler_splunk_testing.server import SplunkTestServer

    server = SplunkTestServer(
        port=args.port,
        https=args.https,
        version=args.splunk_version,
        username=args.username,
        password=args.password,
        token=args.token or None,
        dispatch_delay=args.delay,
        max_result_rows=args.max_result_rows,
        export_preview_sets=args.export_preview_sets,
    )
    for name, path in args.data:
        server.add_index(name, _read_table(Path(path)))
    for name, path in args.metric_data:
        server.add_index(name, _read_table(Path(path)), datatype="metric")
    for name, rows in args.generate:
        try:
            count = int(rows)
        except ValueError:
            raise SystemExit(f"--generate {name}={rows}: ROWS must be an integer") from None
        server.add_index(name, generate_sensor_data(count, seed=args.seed))

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    parent = os.getppid()
    deadline = None if args.max_seconds is None else time.monotonic() + args.max_seconds
    with server:
        print(json.dumps({**server.connection_info(), "pid": os.getpid()}), flush=True)
        while not stop.wait(0.2):
            if deadline is not None and time.monotonic() >= deadline:
                break
            if args.exit_with_parent and os.getppid() != parent:
                break
    return 0


if __name__ == "__main__":
    sys.exit(main())
