"""``python -m kepler_splunk_testing``: run the Splunk test server in its own process.

Prints one JSON line on stdout (url, host, port, scheme, username, password, token, ca_file,
version, indexes, hec_url, hec_port, hec_token, pid) once the server accepts connections, and on
stderr the same for a person, with a ready-to-paste ``export KEPLER_SPLUNK__...`` block; then
serves until SIGTERM/SIGINT, until ``--max-seconds`` pass, or (with ``--exit-with-parent``) until
the process that started it dies. Kepler's benchmark uses this so that the server's CPU time is
not counted as the client's; people use it to try Kepler without a Splunk.

``--background`` starts the server as a detached process of its own, waits until it answers,
prints the ``export`` lines (plus ``KEPLER_SPLUNK_TEST_PID``) on stdout and returns, so a shell
or a README takes the settings with ``eval "$(python -m kepler_splunk_testing ... --background)"``.
A background server always stops by itself: after ``--max-seconds`` (default 4 hours).

Generated data (``--generate``) ends now unless ``--start``/``--end`` say otherwise, so a search
with ``earliest=-7d`` finds it; ``--hec-port`` and ``--hec-token`` keep the HEC settings of a
configuration valid across restarts.
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
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kepler_splunk_testing.server import SplunkTestServer

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
    parser.add_argument(
        "--index",
        action="append",
        default=[],
        metavar="NAME",
        help="an empty event index NAME (for HEC writes, say)",
    )
    parser.add_argument(
        "--start",
        default=None,
        help="time of the first generated row: ISO 8601, epoch seconds or Splunk's -7d@d form "
        "(default: rows one second apart, the last one now)",
    )
    parser.add_argument(
        "--end",
        default=None,
        help="time of the last generated row (default: now); with --start the rows are spread "
        "evenly between the two",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for --generate (0)")
    parser.add_argument(
        "--hec-port", type=int, default=0, help="HTTP Event Collector port (0: any free port)"
    )
    parser.add_argument(
        "--hec-token",
        default=None,
        help="value of the default HEC token (default: a new GUID each start)",
    )
    parser.add_argument("--delay", type=float, default=0.05, help="job dispatch delay, seconds")
    parser.add_argument("--max-result-rows", type=int, default=50_000)
    parser.add_argument("--export-preview-sets", type=int, default=1)
    parser.add_argument("--max-seconds", type=float, default=None, help="stop after this long")
    parser.add_argument(
        "--exit-with-parent", action="store_true", help="stop when the parent process exits"
    )
    parser.add_argument(
        "--background",
        action="store_true",
        help="start detached, print the export lines once it answers, and return "
        "(use: eval \"$(python -m kepler_splunk_testing --generate pumps=20000 --background)\"); "
        f"stops after --max-seconds (default {BACKGROUND_MAX_SECONDS:.0f})",
    )
    return parser


#: A detached server nobody watches still ends: four hours unless --max-seconds says otherwise.
BACKGROUND_MAX_SECONDS = 4 * 3600.0
#: How long --background waits for the server to answer (a big --generate takes a while).
BACKGROUND_START_TIMEOUT = 300.0


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(arguments)
    if args.background:
        return _start_in_background(arguments, args)
    server = _build_server(args)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    parent = os.getppid()
    deadline = None if args.max_seconds is None else time.monotonic() + args.max_seconds
    try:
        server.start()
    except OSError as error:
        raise SystemExit(f"cannot listen: {error} (is --port/--hec-port in use?)") from None
    with server:
        print(json.dumps({**server.connection_info(), "pid": os.getpid()}), flush=True)
        print(describe(server), file=sys.stderr, flush=True)
        while not stop.wait(0.2):
            if deadline is not None and time.monotonic() >= deadline:
                break
            if args.exit_with_parent and os.getppid() != parent:
                break
    return 0


def _build_server(args: argparse.Namespace) -> SplunkTestServer:
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
        hec_port=args.hec_port,
        hec_token=args.hec_token or None,
    )
    for name in args.index:
        _add(server, name, None, "event", "--index")
    for name, path in args.data:
        _add(server, name, _read_table(Path(path)), "event", f"--data {name}={path}")
    for name, path in args.metric_data:
        _add(server, name, _read_table(Path(path)), "metric", f"--metric-data {name}={path}")
    for name, rows in args.generate:
        try:
            count = int(rows)
        except ValueError:
            raise SystemExit(f"--generate {name}={rows}: ROWS must be an integer") from None
        _add(server, name, _generated(count, args), "event", f"--generate {name}={rows}")
    return server


def _add(server: SplunkTestServer, name: str, data: Any, datatype: str, option: str) -> None:
    """Register an index; a file with a header and no rows makes an empty index."""
    if data is not None and len(data) == 0:
        if datatype == "metric":
            raise SystemExit(f"{option}: a metric index needs data points; the file has none")
        data = None
    try:
        server.add_index(name, data, datatype)  # type: ignore[arg-type]
    except ValueError as error:  # DatasetError too: a bad index name, no _time column ...
        raise SystemExit(f"{option}: {error}") from None


def _generated(rows: int, args: argparse.Namespace) -> Any:
    """Sensor rows ending now (or between --start and --end), one second apart by default."""
    import pandas as pd

    from kepler_splunk_testing.sensors import generate_sensor_data
    from kepler_splunk_testing.timemodifiers import resolve_time

    now = datetime.now(UTC).replace(microsecond=0)
    try:
        start = resolve_time(args.start, now=now) if args.start else None
        end = resolve_time(args.end, now=now) if args.end else None
    except ValueError as error:
        raise SystemExit(f"--start/--end: {error}") from None
    if start is not None and end is not None:
        if end < start:
            raise SystemExit(f"--end {args.end} is before --start {args.start}")
        step = (end - start) / max(rows - 1, 1)
        return generate_sensor_data(rows, start=start, freq=pd.Timedelta(step), seed=args.seed)
    if start is not None:
        return generate_sensor_data(rows, start=start, seed=args.seed)
    return generate_sensor_data(rows, end=end or now, seed=args.seed)


def _start_in_background(arguments: list[str], args: argparse.Namespace) -> int:
    """Run this module again as a detached process and hand its settings to the shell.

    The child's first stdout line is its connection info (printed only once it listens); its
    human-readable output goes to a log file named in the result, so nothing ties it to this
    terminal after we return.
    """
    import subprocess
    import tempfile

    child_args = [a for a in arguments if a != "--background"]
    if args.max_seconds is None:
        child_args += ["--max-seconds", str(BACKGROUND_MAX_SECONDS)]
    log = Path(tempfile.mkstemp(prefix="kepler-splunk-test-", suffix=".log")[1])
    with log.open("wb") as log_file:
        child = subprocess.Popen(
            [sys.executable, "-m", "kepler_splunk_testing", *child_args],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log_file,
            start_new_session=True,
        )
    first_line = _first_line(child, BACKGROUND_START_TIMEOUT)
    if not first_line:
        child.kill()
        child.wait()
        detail = log.read_text(errors="replace").strip() or "no output"
        raise SystemExit(f"the Splunk test server did not start: {detail} (log: {log})")
    assert child.stdout is not None
    child.stdout.close()  # it prints nothing more; closing lets it outlive this process
    info = json.loads(first_line)
    print("\n".join(export_lines(info)))
    print(f"export KEPLER_SPLUNK_TEST_PID={info['pid']}")
    print(f"Splunk test server running in the background (pid {info['pid']}, log {log}); "
          f"stop it with: kill $KEPLER_SPLUNK_TEST_PID", file=sys.stderr)
    return 0


def _first_line(child: Any, timeout: float) -> str:
    """The child's first stdout line, or "" when it exits or stays silent past ``timeout``."""
    import selectors

    selector = selectors.DefaultSelector()
    selector.register(child.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    try:
        while (left := deadline - time.monotonic()) > 0:
            if selector.select(timeout=min(left, 0.5)):
                return str(child.stdout.readline().decode().strip())
            if child.poll() is not None:
                return ""
        return ""
    finally:
        selector.close()


def export_lines(info: dict[str, Any]) -> list[str]:
    """``export KEPLER_SPLUNK__...`` lines pointing kepler-splunk's ``splunk:`` settings at a
    server described by its connection info."""
    lines = [
        f"export KEPLER_SPLUNK__HOST={info['host']}",
        f"export KEPLER_SPLUNK__PORT={info['port']}",
        f"export KEPLER_SPLUNK__SCHEME={info['scheme']}",
    ]
    if info["token"]:
        lines.append(f"export KEPLER_SPLUNK__TOKEN={info['token']}")
    else:
        lines.append(f"export KEPLER_SPLUNK__USERNAME={info['username']}")
        lines.append(f"export KEPLER_SPLUNK__PASSWORD={info['password']}")
    lines += [
        f"export KEPLER_SPLUNK__HEC_URL={info['hec_url']}",
        f"export KEPLER_SPLUNK__HEC_TOKEN={info['hec_token']}",
    ]
    if info["ca_file"]:
        lines.append(f"export KEPLER_SPLUNK__CA_FILE={info['ca_file']}")
    return lines


def describe(server: SplunkTestServer) -> str:
    """What a person needs: where the server is, its credentials, and the environment variables
    that point Kepler at it (kepler-splunk's ``splunk:`` settings, ``KEPLER_SPLUNK__<FIELD>``)."""
    info = server.connection_info()
    lines = [
        "Splunk test server ready (Ctrl-C stops it).",
        f"  REST API: {info['url']}  (user {info['username']} / {info['password']}, "
        f"token {info['token']})",
        f"  HEC:      {info['hec_url']}  (token {info['hec_token']}; --hec-port and "
        "--hec-token keep these across restarts)",
    ]
    for index in server.engine.index_list():
        if index.name in info["indexes"]:
            lines.append(f"  index {index.name}: {_extent(index)}")
    lines += ["", "Point Kepler at it (paste into your shell):", *export_lines(info)]
    return "\n".join(lines)


def _extent(index: Any) -> str:
    oldest, newest = index.time_bounds()
    count = index.total_event_count
    if oldest is None or newest is None:
        return f"{index.datatype}, empty"
    first = datetime.fromtimestamp(oldest, UTC).isoformat().replace("+00:00", "Z")
    last = datetime.fromtimestamp(newest, UTC).isoformat().replace("+00:00", "Z")
    unit = "points" if index.datatype == "metric" else "events"
    return f"{count:,} {unit}, {first} .. {last}"


if __name__ == "__main__":
    sys.exit(main())
