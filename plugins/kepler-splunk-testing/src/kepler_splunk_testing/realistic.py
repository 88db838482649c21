"""An index that looks like a real one: multivalue ``tag``/``eventtype``, multi-line ``_raw``,
sparse fields. Kepler's extraction benchmark serves it, so anyone can reproduce its numbers.

Sensor benchmarks built from ``generate_sensor_data`` alone flatter a client: every field is
present on every event and only one is rarely multivalue. Events in a production index differ in
ways that cost a client real work, and this generator puts each of them on every results page:

- ``tag`` (on ~70% of events, 2-3 values on ~30%) and ``eventtype`` (1-2 values, 2 on ~12%),
  multivalue as Splunk's knowledge objects make them;
- ``_raw`` with a real newline inside one value on ~2% of events (a stack trace), the case a
  CSV reader cannot tell from a multivalue field;
- ``user`` on ~20% and ``error_code`` (codes such as ``0042``) on ~3% of events: sparse fields;
- per-event ``host``/``source``/``sourcetype``, and numbers a client must type.

``python -m kepler_splunk_testing.realistic --rows N`` serves it in its own process, with the
latency knobs a benchmark needs (see :func:`main`).
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
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["REALISTIC_FIELDS", "generate_realistic_events", "main"]

REALISTIC_FIELDS = (
    "_time",
    "_raw",
    "host",
    "source",
    "sourcetype",
    "asset_id",
    "status",
    "temperature",
    "pressure",
    "rpm",
    "user",
    "error_code",
    "tag",
    "eventtype",
)
"""The columns of :func:`generate_realistic_events`, ``_time`` first."""

_TAGS = np.array(["pump", "sensor", "ot", "network", "error", "authentication", "change", "plc"])
_EVENTTYPES = np.array(["pump_reading", "pump_fault", "scada_login", "plc_change", "net_flap"])
_STATUS = np.array(["ok", "ok", "ok", "ok", "warn", "fault", "maintenance"])
_USERS = np.array(["svc_scada", "operator7", "operator12", "engineer3", "historian"])
_SOURCES = np.array(["/var/log/pumps/controller.log", "/var/log/pumps/plc.log", "udp:514"])
_SOURCETYPES = np.array(["pump:controller", "pump:plc", "syslog"])
_TRACE = (
    "\nTraceback (most recent call last):\n  File \"/opt/scada/poll.py\", line 88, in read\n"
    "    value = plc.read_register(addr)\nTimeoutError: PLC did not answer within 2.0 s"
)


def _multivalue(
    rng: np.random.Generator, rows: int, vocabulary: np.ndarray, present: float, extra: float
) -> pa.Array:
    """A list<string> column: absent (null) with probability ``1 - present``, else 1 value, or
    2-3 values with probability ``extra`` (distinct values of ``vocabulary``)."""
    has = rng.random(rows) < present
    counts = np.where(has, 1, 0)
    more = has & (rng.random(rows) < extra)
    counts[more] = rng.integers(2, 4, int(more.sum()))
    offsets = np.zeros(rows + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    first = rng.integers(0, len(vocabulary), rows)
    # value k of a row is (first + k * step) mod n with step coprime to n: values stay distinct
    step = 3 if len(vocabulary) % 3 else 1
    position = np.arange(int(offsets[-1])) - np.repeat(offsets[:-1], counts)
    picks = (np.repeat(first, counts) + position * step) % len(vocabulary)
    values = pa.array(list(vocabulary), pa.string()).take(pa.array(picks))
    return pa.ListArray.from_arrays(pa.array(offsets), values, mask=pa.array(~has))


def _pick(rng: np.random.Generator, vocabulary: list[str], rows: int) -> pa.Array:
    """``rows`` values drawn uniformly from ``vocabulary`` (Arrow ``take``: no Python loop)."""
    return pa.array(vocabulary, pa.string()).take(pa.array(rng.integers(0, len(vocabulary), rows)))


def _sparse(rng: np.random.Generator, values: pa.Array, share: float) -> pa.Array:
    """``values`` kept on a ``share`` of the rows, missing elsewhere."""
    absent = pa.array(rng.random(len(values)) >= share)
    return pc.if_else(absent, pa.scalar(None, pa.string()), values)


def _raw(
    times: np.ndarray, host: pa.Array, asset: pa.Array, status: pa.Array, temperature: np.ndarray,
    rpm: np.ndarray, multiline: np.ndarray,
) -> pa.Array:
    """``_raw`` as a syslog-like line built from the event's own fields; a stack trace with real
    newlines appended where ``multiline``."""
    seconds = pa.array(times // 1_000_000_000, pa.timestamp("s", tz="UTC"))
    stamp = pc.strftime(seconds, "%Y-%m-%dT%H:%M:%SZ")
    temp_text = pc.cast(pa.array(np.round(temperature, 1)), pa.string())
    line = pc.binary_join_element_wise(
        stamp, " ", host, " pumpd[", pc.cast(pa.array(rpm % 9000 + 1000), pa.string()),
        "]: asset=", asset, " status=", status, " temperature=", temp_text,
        " rpm=", pc.cast(pa.array(rpm), pa.string()), "",
    )
    trace = pa.array(np.where(multiline, _TRACE, ""), pa.string())
    return pc.binary_join_element_wise(line, trace, "")


def generate_realistic_events(
    rows: int,
    start: str = "2024-05-01T00:00:00Z",
    days: float = 30.0,
    seed: int = 0,
) -> pa.Table:
    """``rows`` events spread at random over ``days`` from ``start`` (several events often share
    a second, as on a busy index), oldest first; the same arguments give the same table.

    Columns: see :data:`REALISTIC_FIELDS`. ``tag``/``eventtype`` are ``list<string>`` (null when
    absent), ``user``/``error_code`` sparse strings, ``temperature``/``pressure`` floats, ``rpm``
    integers, ``_time`` whole seconds as ``timestamp[ns, UTC]``.
    """
    if rows < 0:
        raise ValueError(f"rows must be >= 0, got {rows}")
    rng = np.random.default_rng(seed)
    origin = np.datetime64(start.rstrip("Z"), "s").astype(np.int64)
    seconds = np.sort(origin + rng.integers(0, max(1, int(days * 86_400)), rows))
    times = seconds * 1_000_000_000
    kind = rng.integers(0, 3, rows)
    temperature = 58 + 9 * rng.standard_normal(rows)
    rpm = rng.integers(900, 3600, rows)
    host_array = _pick(rng, [f"pump-host-{n:02d}" for n in range(40)], rows)
    asset_array = _pick(rng, [f"P-{n:04d}" for n in range(1, 501)], rows)
    status_array = _pick(rng, list(_STATUS), rows)
    columns: dict[str, Any] = {
        "_time": pa.array(times, pa.timestamp("ns", tz="UTC")),
        "_raw": _raw(times, host_array, asset_array, status_array, temperature, rpm,
                     rng.random(rows) < 0.02),
        "host": host_array,
        "source": pa.array(list(_SOURCES), pa.string()).take(pa.array(kind)),
        "sourcetype": pa.array(list(_SOURCETYPES), pa.string()).take(pa.array(kind)),
        "asset_id": asset_array,
        "status": status_array,
        "temperature": pa.array(np.round(temperature, 2)),
        "pressure": pa.array(np.round(6 + 0.8 * rng.standard_normal(rows), 3)),
        "rpm": pa.array(rpm, pa.int64()),
        "user": _sparse(rng, _pick(rng, list(_USERS), rows), 0.20),
        "error_code": _sparse(rng, _pick(rng, [f"{n:04d}" for n in range(1, 9999)], rows), 0.03),
        "tag": _multivalue(rng, rows, _TAGS, present=0.7, extra=0.43),
        "eventtype": _multivalue(rng, rows, _EVENTTYPES, present=1.0, extra=0.12),
    }
    return pa.table(columns)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m kepler_splunk_testing.realistic",
        description="Serve generate_realistic_events() as index NAME (default 'web') in a "
        "Splunk test server of its own process; prints one JSON line when ready.",
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--index", default="web")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.05, help="job dispatch delay, seconds")
    parser.add_argument("--request-latency", type=float, default=0.0,
                        help="seconds added to every HTTP request (network + splunkd overhead)")
    parser.add_argument("--bandwidth", type=float, default=0.0,
                        help="bytes per second one response is sent at (0: unlimited)")
    parser.add_argument("--scan-rate", type=float, default=0.0,
                        help="events per second one search job scans (0: instant)")
    parser.add_argument("--max-seconds", type=float, default=3600.0)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the server until SIGTERM/SIGINT, ``--max-seconds``, or the parent process exits."""
    from kepler_splunk_testing.server import SplunkTestServer

    args = build_parser().parse_args(argv)
    server = SplunkTestServer(
        dispatch_delay=args.delay,
        request_latency=args.request_latency,
        bandwidth=args.bandwidth,
        scan_rate=args.scan_rate,
    )
    server.add_index(args.index, generate_realistic_events(args.rows, seed=args.seed))
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    parent = os.getppid()
    deadline = time.monotonic() + args.max_seconds
    with server:
        print(json.dumps({**server.connection_info(), "pid": os.getpid()}), flush=True)
        while not stop.wait(0.2) and time.monotonic() < deadline and os.getppid() == parent:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
