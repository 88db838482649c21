"""The edge runner: scores a Kepler model exported to ONNX, next to the machine, with nothing but
the standard library, NumPy and onnxruntime.

This one file is copied into every edge bundle as ``runner.py``; it must never import pandas,
scikit-learn, torch or kepler-core, because the device installs only the bundle's
``requirements.txt``. It:

- verifies the sha256 of every file the bundle's ``kepler-model.json`` lists before loading
  anything (a tampered or half-copied bundle is refused, exit code 3);
- serves the routes and request/response shapes of ``kepler serve``: ``POST /predict`` with
  ``{"instances": [...]}``, the Open Inference Protocol (KServe v2) routes, ``/health``,
  ``/ready``, ``/metadata``, ``/metrics``; bad input is a 422 naming each field;
- scores files in batch mode (``--input rows.csv|rows.jsonl --output out.jsonl|out.csv``);
- with ``KEPLER_SPLUNK__HEC_URL`` and ``KEPLER_SPLUNK__HEC_TOKEN`` set, writes every prediction
  (with a row id) to a disk spool *before* answering, and a background thread forwards the spool
  to Splunk's HTTP Event Collector in order, so nothing is lost while HEC is down or across a
  restart (at-least-once: a duplicate is possible, countable by ``row_id``).

Usage::

    python runner.py --port 8080                 # serve (the bundle's folder is this file's)
    python runner.py --input rows.csv --output predictions.jsonl
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import http.server
import json
import logging
import math
import os
import signal
import socketserver
import ssl
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger("kepler-edge")

MANIFEST = "kepler-model.json"
#: What a missing category becomes: the category Kepler's preprocessing saw in training.
MISSING = "(missing)"
FLOAT32_MAX = 3.4028234663852886e38
EXIT_TAMPERED = 3
#: Probabilities this close to the highest are a tie (float32 rounding of an exact tie).
TIE_EPSILON = 1e-6
#: Up to this many rows, labels are picked in plain Python (fewer calls than NumPy's).
SMALL_TABLE = 16


class BundleError(Exception):
    """A bundle that must not be loaded: a file missing, changed or not listed."""


class InputError(Exception):
    """A request that does not match the model's input; ``errors`` are field-level, in the
    shape ``kepler serve`` answers with (``loc``, ``msg``, ``type``), no value echoed."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(errors)} input error(s)")
        self.errors = errors


def _error(loc: Sequence[Any], msg: str, kind: str) -> dict[str, Any]:
    return {"loc": [p if isinstance(p, int) else str(p)[:64] for p in loc], "msg": msg,
            "type": kind}


# --- the bundle ------------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_bundle(folder: Path) -> dict[str, Any]:
    """The bundle's manifest, once every file it lists has its recorded sha256."""
    try:
        manifest: dict[str, Any] = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BundleError(f"{folder / MANIFEST}: cannot be read ({exc})") from None
    for name, expected in sorted(manifest.get("files", {}).items()):
        path = folder / name
        if ".." in Path(name).parts or not path.is_file():
            raise BundleError(f"{name}: listed in {MANIFEST} but missing")
        if sha256_file(path) != expected:
            raise BundleError(f"{name}: sha256 differs from {MANIFEST} (changed or corrupt)")
    if "model.onnx" not in manifest.get("files", {}):
        raise BundleError(f"{MANIFEST} does not list model.onnx")
    return manifest


# --- validation ------------------------------------------------------------------------------


def _number(value: Any, loc: list[Any], whole: bool) -> float:
    if isinstance(value, str):  # lenient, as kepler serve: a numeric string reads as its number
        try:
            value = float(value.strip())
        except ValueError:
            raise InputError([_error(loc, "Input should be a valid number", "float_parsing")]
                             ) from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        kind = "int_type" if whole else "float_type"
        msg = "Input should be a valid integer" if whole else "Input should be a valid number"
        raise InputError([_error(loc, msg, kind)])
    if not math.isfinite(value) or abs(value) > FLOAT32_MAX:
        raise InputError([_error(loc, "Input should be a finite number within float32's "
                                 "range", "finite_number")])
    if whole and float(value) != int(value):
        raise InputError([_error(loc, "Input should be a valid integer, got a number with a "
                                 "fractional part", "int_from_float")])
    return float(value)


def _value(feature: dict[str, Any], value: Any, loc: list[Any]) -> Any:
    """One validated value as the ONNX input takes it (float, or str for a category)."""
    kind = feature["kind"]
    if value is None:
        if feature["nullable"]:
            return MISSING if feature["dtype"] == "string" else math.nan
        raise InputError([_error(loc, "Input should not be null", "none_forbidden")])
    if kind == "boolean":
        if not isinstance(value, bool):
            raise InputError([_error(loc, "Input should be a valid boolean", "bool_type")])
        return float(value)
    if feature["dtype"] == "string":
        if not isinstance(value, str):
            raise InputError([_error(loc, "Input should be a valid string", "string_type")])
        return value
    return _number(value, loc, whole=kind == "integer")


class Inputs:
    """Validation of records against the model's features, and the ONNX feed they make."""

    def __init__(self, manifest: dict[str, Any], max_batch: int = 10_000) -> None:
        self.features: list[dict[str, Any]] = manifest["features"]
        self.names = [f["name"] for f in self.features]
        self.max_batch = max_batch
        self.all_numeric = all(f["dtype"] != "string" for f in self.features)

    def check_rows(self, rows: Any, loc: Sequence[Any] = ("instances",)) -> list[list[Any]]:
        """Every row's values in feature order; all errors of the request at once."""
        if not isinstance(rows, list):
            raise InputError([_error(loc, "Input should be a valid list", "list_type")])
        if not 1 <= len(rows) <= self.max_batch:
            raise InputError([_error(loc, f"List should have 1 to {self.max_batch} items",
                                     "too_short" if not rows else "too_long")])
        errors: list[dict[str, Any]] = []
        table: list[list[Any]] = []
        for index, row in enumerate(rows):
            if not isinstance(row, dict):
                errors.append(_error([*loc, index], "Input should be a valid dictionary",
                                     "dict_type"))
                continue
            table.append(self._row(row, [*loc, index], errors))
        if errors:
            raise InputError(errors)
        return table

    def _row(self, row: dict[str, Any], loc: list[Any], errors: list[dict[str, Any]]
             ) -> list[Any]:
        values: list[Any] = []
        for feature in self.features:
            name = feature["name"]
            if name not in row:
                if feature["required"]:
                    errors.append(_error([*loc, name], "Field required", "missing"))
                    values.append(None)
                    continue
                row = {**row, name: None}
            try:
                values.append(_value(feature, row[name], [*loc, name]))
            except InputError as exc:
                errors.extend(exc.errors)
                values.append(None)
        return values

    def feed(self, table: list[list[Any]]) -> dict[str, Any]:
        """The ONNX inputs: one ``[N, 1]`` tensor per feature (float32 or string)."""
        import numpy as np

        if self.all_numeric:
            # one conversion for the whole table; each input a contiguous row of its transpose
            columns = np.ascontiguousarray(np.asarray(table, dtype=np.float32).T)
            return {name: columns[i].reshape(-1, 1) for i, name in enumerate(self.names)}
        feed: dict[str, Any] = {}
        for column, feature in enumerate(self.features):
            values = [row[column] for row in table]
            if feature["dtype"] == "string":
                feed[feature["name"]] = np.asarray(values, dtype=object).reshape(-1, 1)
            else:
                feed[feature["name"]] = np.asarray(values, dtype=np.float32).reshape(-1, 1)
        return feed


# --- scoring ---------------------------------------------------------------------------------


class Scorer:
    """An onnxruntime session over ``model.onnx`` and what the manifest says its outputs mean."""

    def __init__(self, model: Path | bytes, manifest: dict[str, Any],
                 threads: int | None = None) -> None:
        """``model``: the bundle's folder (its ``model.onnx``), or the ONNX bytes themselves
        (the export's parity check scores with this very class). ``threads``: onnxruntime's
        intra-op threads (default ``KEPLER_EDGE__THREADS``, 1: the least latency per row)."""
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or int(os.environ.get("KEPLER_EDGE__THREADS", "1"))
        if options.intra_op_num_threads > 1:  # idle pool threads would spin, taking a core
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        source = str(model / "model.onnx") if isinstance(model, Path) else model
        self.session = ort.InferenceSession(source, options,
                                            providers=["CPUExecutionProvider"])
        self.manifest = manifest
        self.inputs = Inputs(manifest, int(os.environ.get("KEPLER_EDGE__MAX_BATCH", "10000")))
        self.classes: list[Any] | None = manifest.get("classes")
        self.outputs = manifest["outputs"]
        self.probabilities = "probabilities" in self.outputs
        # a classifier's label is the most probable class: its probabilities are enough
        self.label = (self.outputs.get("label")
                      if not (self.probabilities and self.classes) else None)
        self.output_names = [name for name in (self.label, self.outputs.get("probabilities"))
                             if name]
        self._local = threading.local()
        self._one_row_outputs = self._plan_one_row()

    def _plan_one_row(self) -> list[tuple[str, tuple[int, ...], Any]] | None:
        """Shapes and dtypes of the outputs for one row, when one row can be scored through a
        reusable I/O binding (all inputs numeric, all outputs numeric): it skips the per-call
        checks and allocations of ``session.run``, half the cost of scoring one row."""
        if not self.inputs.all_numeric:
            return None
        try:
            results = self.session.run(self.output_names,
                                       self.inputs.feed([[0.0] * len(self.inputs.names)]))
        except Exception:  # the general path still scores this model
            return None
        if any(result.dtype == object for result in results):
            return None
        return [(name, result.shape, result.dtype)
                for name, result in zip(self.output_names, results, strict=True)]

    def _run_one(self, row: list[Any], plan: list[tuple[str, tuple[int, ...], Any]]
                 ) -> list[Any]:
        """One row through this thread's I/O binding: buffers bound once, filled in place."""
        import numpy as np

        bound = getattr(self._local, "bound", None)
        if bound is None:
            binding = self.session.io_binding()
            inputs = [np.zeros((1, 1), dtype=np.float32) for _ in self.inputs.names]
            for name, array in zip(self.inputs.names, inputs, strict=True):
                binding.bind_input(name, "cpu", 0, np.float32, [1, 1], array.ctypes.data)
            outputs = [np.empty(shape, dtype=dtype) for _, shape, dtype in plan]
            for (name, shape, dtype), array in zip(plan, outputs, strict=True):
                binding.bind_output(name, "cpu", 0, dtype, list(shape), array.ctypes.data)
            bound = self._local.bound = (binding, inputs, outputs)
        binding, inputs, outputs = bound
        for array, value in zip(inputs, row, strict=True):
            array[0, 0] = value
        self.session.run_with_iobinding(binding)
        return [array.copy() for array in outputs]

    def _run(self, table: list[list[Any]]) -> list[Any]:
        plan = self._one_row_outputs
        if plan is not None and len(table) == 1:
            return self._run_one(table[0], plan)
        return list(self.session.run(self.output_names, self.inputs.feed(table)))

    def score_table(self, table: list[list[Any]], plain: bool = True) -> dict[str, Any]:
        """``predictions`` (and ``probabilities`` for classifiers) of validated rows;
        ``plain=False`` leaves probabilities as the float32 array onnxruntime gave."""
        import numpy as np

        label = self.label
        results = self._run(table)
        if label is None:
            # the first most probable class, as scikit-learn's predict; float32 sums make an
            # exact tie (10 of 20 trees) 0.49999994 vs 0.50000006, so classes within
            # TIE_EPSILON of the highest count as tied (ONNX's own label breaks ties the
            # other way)
            proba = results[0]
            if len(table) <= SMALL_TABLE:
                labels = [self.classes[_first_top(row)] for row in proba.tolist()]
            else:
                tied = proba >= proba.max(axis=1, keepdims=True) - TIE_EPSILON
                labels = np.asarray(self.classes, dtype=object)[np.argmax(tied, axis=1)]
        else:
            labels = np.asarray(results[0]).reshape(len(table), -1)[:, 0]
            decode = self.manifest.get("label_decode")
            if decode is not None:  # labels the model was trained on as 0..k-1
                labels = np.asarray(decode, dtype=object)[labels.astype(int)]
        scored: dict[str, Any] = {"predictions": _plain(labels)}
        if self.probabilities:
            # float32 values as Python floats
            scored["probabilities"] = results[-1].tolist() if plain else results[-1]
        return scored

    def score(self, rows: Any) -> dict[str, Any]:
        return self.score_table(self.inputs.check_rows(rows))


def _first_top(probabilities: list[float]) -> int:
    """The first class within TIE_EPSILON of the most probable one (plain Python: one row's
    few classes cost less this way than through NumPy's calls)."""
    floor = max(probabilities) - TIE_EPSILON
    return next(i for i, p in enumerate(probabilities) if p >= floor)


def _plain(values: Any) -> list[Any]:
    """JSON-ready Python values (numpy scalars and bytes as their plain kinds)."""
    out = []
    for value in (values.tolist() if hasattr(values, "tolist") else values):
        out.append(value.decode() if isinstance(value, bytes) else value)
    return out


# --- store-and-forward to Splunk HEC ---------------------------------------------------------


class Spool:
    """A folder of numbered files, one batch of HEC events each, written (and fsync'ed) before a
    prediction is answered: the write-ahead record that survives a restart. Bounded in bytes;
    when full, ``drop-oldest`` deletes the oldest batches to make room, ``drop-newest`` refuses
    the new one; both warn and count."""

    def __init__(self, folder: Path, max_bytes: int, policy: str = "drop-oldest",
                 fsync: bool = True) -> None:
        if policy not in ("drop-oldest", "drop-newest"):
            raise ValueError("KEPLER_EDGE__SPOOL_POLICY is drop-oldest or drop-newest")
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self.policy = policy
        self.fsync = fsync
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.dropped_events = 0
        self._next = max((int(p.stem) for p in self.files()), default=0) + 1
        for stale in self.folder.glob("*.tmp"):  # a write cut short by a crash: never answered
            stale.unlink(missing_ok=True)
        #: Bytes in the spool, kept here so a put does not list the folder.
        self._used = sum(p.stat().st_size for p in self.files())

    def files(self) -> list[Path]:
        return sorted(self.folder.glob("*.json"), key=lambda p: int(p.stem))

    def size(self) -> int:
        return self._used

    def remove(self, path: Path) -> None:
        """Delete a batch (sent, or dropped by the policy); call with :attr:`lock` held."""
        with contextlib.suppress(FileNotFoundError):
            size = path.stat().st_size
            path.unlink()
            self._used -= size

    def put(self, events: list[dict[str, Any]]) -> bool:
        """Store a batch; False when the policy dropped it."""
        data = json.dumps(events, separators=(",", ":")).encode()
        with self.lock:
            if not self._make_room(len(data), len(events)):
                return False
            path = self.folder / f"{self._next:012d}.json"
            self._next += 1
            temp = path.with_suffix(".tmp")
            with temp.open("wb") as handle:
                handle.write(data)
                if self.fsync:
                    handle.flush()
                    os.fsync(handle.fileno())
            os.replace(temp, path)
            self._used += len(data)
        self.ready.set()
        return True

    def _make_room(self, size: int, count: int) -> bool:
        used = self.size()
        if used + size <= self.max_bytes:
            return True
        if self.policy == "drop-newest" or size > self.max_bytes:
            self.dropped_events += count
            log.warning("spool full (%d of %d bytes): dropped %d new prediction(s)", used,
                        self.max_bytes, count)
            return False
        for oldest in self.files():
            if used + size <= self.max_bytes:
                break
            lost = len(json.loads(oldest.read_bytes()))
            used -= oldest.stat().st_size
            self.remove(oldest)
            self.dropped_events += lost
            log.warning("spool full (max %d bytes): dropped the %d oldest prediction(s)",
                        self.max_bytes, lost)
        return True

    def oldest(self) -> tuple[Path, bytes] | None:
        with self.lock:
            files = self.files()
            return (files[0], files[0].read_bytes()) if files else None


class Forwarder(threading.Thread):
    """Sends the spool to HEC, oldest batch first; a batch leaves the spool only once HEC took
    it (and, with acknowledgement, once the indexers acknowledged it)."""

    def __init__(self, spool: Spool, url: str, token: str, *, ack: bool = False,
                 ack_timeout: float = 60.0, backoff: float = 1.0) -> None:
        super().__init__(name="kepler-edge-hec", daemon=True)
        if not url.startswith(("http://", "https://")):
            raise ValueError("KEPLER_SPLUNK__HEC_URL must be an http:// or https:// URL")
        self.spool = spool
        self.url = url.rstrip("/")
        self.tls: ssl.SSLContext | None = None
        self.token = token
        self.ack = ack
        self.ack_timeout = ack_timeout
        self.backoff = backoff
        self.channel = str(uuid.uuid4())
        self.stopping = threading.Event()
        self.sent_events = 0
        self.rejected_batches = 0
        self.last_error: str | None = None

    def run(self) -> None:
        wait = self.backoff
        while not self.stopping.is_set():
            item = self.spool.oldest()
            if item is None:
                self.spool.ready.wait(0.5)
                self.spool.ready.clear()
                continue
            path, body = item
            outcome = self._deliver(body)
            if outcome == "sent":
                with self.spool.lock:
                    self.spool.remove(path)
                self.sent_events += len(json.loads(body))
                self.last_error, wait = None, self.backoff
            elif outcome == "rejected":
                self._quarantine(path)
            else:
                self.stopping.wait(wait)
                wait = min(wait * 2, 30.0)

    def _quarantine(self, path: Path) -> None:
        """Move a batch HEC refuses as malformed (400) to ``rejected/``: kept for a person to
        look at, out of the way of the batches behind it."""
        target = self.spool.folder / "rejected"
        target.mkdir(exist_ok=True)
        with self.spool.lock:
            size = path.stat().st_size
            os.replace(path, target / path.name)
            self.spool._used -= size
        self.rejected_batches += 1
        log.error("HEC refused batch %s as malformed (%s): moved to %s", path.name,
                  self.last_error, target)

    def _post(self, path: str, body: bytes) -> dict[str, Any]:
        request = urllib.request.Request(f"{self.url}{path}", data=body,  # noqa: S310
                                         method="POST")  # http(s) only: checked at start
        request.add_header("Authorization", f"Splunk {self.token}")
        request.add_header("X-Splunk-Request-Channel", self.channel)
        with urllib.request.urlopen(request, timeout=10, context=self.tls) as response:  # noqa: S310
            answer: dict[str, Any] = json.loads(response.read() or b"{}")
            return answer

    def _deliver(self, batch: bytes) -> str:
        """"sent", "retry" (HEC down, busy, refusing the token: the batch stays first in
        line) or "rejected" (HEC says the batch itself is bad: retrying cannot help)."""
        body = b"\n".join(json.dumps(e, separators=(",", ":")).encode()
                          for e in json.loads(batch))
        try:
            answer = self._post("/services/collector/event", body)
            if self.ack and "ackId" in answer:
                return "sent" if self._acknowledged(int(answer["ackId"])) else "retry"
            return "sent"
        except urllib.error.HTTPError as exc:
            self.last_error = f"HTTP {exc.code}: {exc.read()[:200].decode(errors='replace')}"
            if exc.code == 400:
                return "rejected"
            log.warning("HEC refused (%s): predictions stay in the spool", self.last_error)
            return "retry"
        except (OSError, ValueError) as exc:
            self.last_error = str(exc)[:200]
            log.warning("HEC unavailable (%s): predictions stay in the spool", self.last_error)
            return "retry"

    def _acknowledged(self, ack_id: int) -> bool:
        deadline = time.monotonic() + self.ack_timeout
        while time.monotonic() < deadline and not self.stopping.is_set():
            acks = self._post("/services/collector/ack", json.dumps({"acks": [ack_id]}).encode())
            if acks.get("acks", {}).get(str(ack_id)):
                return True
            self.stopping.wait(0.2)
        self.last_error = f"ack {ack_id} not confirmed within {self.ack_timeout}s: sent again"
        return False


class Events:
    """Turns scored rows into HEC events with row ids, and puts them in the spool."""

    def __init__(self, manifest: dict[str, Any], spool: Spool, env: dict[str, str]) -> None:
        self.manifest = manifest
        self.spool = spool
        self.index = env.get("KEPLER_SPLUNK__HEC_INDEX") or None
        self.sourcetype = env.get("KEPLER_EDGE__SOURCETYPE", "kepler:prediction")
        self.host = env.get("KEPLER_EDGE__HOST") or os.uname().nodename

    def record(self, request_id: str, rows: list[dict[str, Any]], scored: dict[str, Any]
               ) -> list[str]:
        now = round(time.time(), 3)
        ids = [f"{request_id}-{i}" for i in range(len(rows))]
        events = []
        for i, row in enumerate(rows):
            event: dict[str, Any] = {
                "row_id": ids[i], "model": self.manifest["name"],
                "version": self.manifest.get("version"),
                "prediction": scored["predictions"][i],
                "features": {k: row.get(k) for k in self.manifest["feature_names"]}}
            if "probabilities" in scored:
                event["probabilities"] = scored["probabilities"][i]
            wrapped: dict[str, Any] = {"time": now, "host": self.host,
                                       "source": f"kepler-edge:{self.manifest['name']}",
                                       "sourcetype": self.sourcetype, "event": event}
            if self.index:
                wrapped["index"] = self.index
            events.append(wrapped)
        self.spool.put(events)
        return ids


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def start_forwarding(folder: Path, manifest: dict[str, Any], env: dict[str, str]
                     ) -> tuple[Events | None, Forwarder | None]:
    """The spool and its forwarding thread when HEC is configured; (None, None) otherwise."""
    url, token = env.get("KEPLER_SPLUNK__HEC_URL"), env.get("KEPLER_SPLUNK__HEC_TOKEN")
    if not url or not token:
        return None, None
    spool = Spool(Path(env.get("KEPLER_EDGE__SPOOL_DIR") or folder / "spool"),
                  int(env.get("KEPLER_EDGE__SPOOL_MAX_BYTES", str(256 << 20))),
                  env.get("KEPLER_EDGE__SPOOL_POLICY", "drop-oldest"),
                  fsync=not _flag(env.get("KEPLER_EDGE__SPOOL_NO_FSYNC")))
    forwarder = Forwarder(spool, url, token, ack=_flag(env.get("KEPLER_SPLUNK__HEC_ACK")),
                          ack_timeout=float(env.get("KEPLER_SPLUNK__HEC_ACK_TIMEOUT", "60")),
                          backoff=float(env.get("KEPLER_EDGE__HEC_BACKOFF", "1")))
    forwarder.tls = tls_context(env)
    forwarder.start()
    return Events(manifest, spool, env), forwarder


def tls_context(env: dict[str, str]) -> ssl.SSLContext:
    """TLS for HEC as kepler-splunk configures it: ``KEPLER_SPLUNK__HEC_CA_FILE`` for a private
    CA, ``KEPLER_SPLUNK__HEC_VERIFY=false`` to skip verification (a lab Splunk only)."""
    context = ssl.create_default_context(cafile=env.get("KEPLER_SPLUNK__HEC_CA_FILE") or None)
    if env.get("KEPLER_SPLUNK__HEC_VERIFY", "").strip().lower() in ("0", "false", "no", "off"):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


# --- the HTTP server -------------------------------------------------------------------------


class Runner:
    """What the routes answer with: the scorer, the spool and the counters behind /metrics."""

    def __init__(self, folder: Path, manifest: dict[str, Any], env: dict[str, str]) -> None:
        self.manifest = manifest
        self.scorer = Scorer(folder, manifest)
        self.events, self.forwarder = start_forwarding(folder, manifest, env)
        self.name = manifest["name"]
        self.version = str(manifest["version"]) if manifest.get("version") is not None else None
        self.started = time.time()
        self.requests = 0
        self.rows = 0
        self.errors = 0
        self.lock = threading.Lock()

    def predict(self, rows: Any, request_id: str) -> dict[str, Any]:
        """Score ``rows`` (raises :class:`InputError`) and spool their events before answering."""
        scored = self.scorer.score(rows)
        payload: dict[str, Any] = {"predictions": scored["predictions"]}
        if "probabilities" in scored:
            payload["probabilities"] = scored["probabilities"]
            payload["classes"] = self.scorer.classes
        payload["model"], payload["version"] = self.name, self.manifest.get("version")
        if self.events is not None:
            payload["row_ids"] = self.events.record(request_id, rows, scored)
        with self.lock:
            self.requests += 1
            self.rows += len(rows)
        return payload

    def infer(self, body: dict[str, Any], request_id: str) -> dict[str, Any]:
        """An Open Inference Protocol request: one tensor per feature, or one [N, features]."""
        rows = v2_rows(body, self.scorer.inputs.names)
        scored = self.predict(rows, request_id)
        wanted = {o.get("name") for o in body.get("outputs") or []} or {"predictions",
                                                                          "probabilities"}
        outputs = []
        if "predictions" in wanted:
            outputs.append({"name": "predictions", "datatype": _datatype(scored["predictions"]),
                            "shape": [len(rows)], "data": scored["predictions"]})
        if "probabilities" in wanted and "probabilities" in scored:
            width = len(scored["probabilities"][0])
            outputs.append({"name": "probabilities", "datatype": "FP64",
                            "shape": [len(rows), width],
                            "data": [p for row in scored["probabilities"] for p in row]})
        answer: dict[str, Any] = {"model_name": self.name, "model_version": self.version,
                                  "outputs": outputs}
        if "id" in body:
            answer["id"] = body["id"]
        return answer

    def v2_metadata(self) -> dict[str, Any]:
        types = {"number": "FP64", "integer": "INT64", "boolean": "BOOL"}
        outputs = [{"name": "predictions", "datatype": _datatype(self.scorer.classes or [0.0]),
                    "shape": [-1]}]
        if self.scorer.probabilities:
            outputs.append({"name": "probabilities", "datatype": "FP64",
                            "shape": [-1, len(self.scorer.classes or [])]})
        return {"name": self.name, "versions": [self.version] if self.version else [],
                "platform": "onnx_onnxv1",
                "inputs": [{"name": f["name"], "datatype": types.get(f["kind"], "BYTES"),
                            "shape": [-1]} for f in self.manifest["features"]],
                "outputs": outputs}

    def metadata(self) -> dict[str, Any]:
        info = {k: v for k, v in self.manifest.items() if k != "files"}
        info["serving"] = {"scoring_path": "onnxruntime", "requests": self.requests,
                           "rows": self.rows, "uptime_seconds": round(time.time() - self.started,
                                                                      1),
                           "spool": self.spool_stats()}
        return info

    def spool_stats(self) -> dict[str, Any] | None:
        if self.events is None or self.forwarder is None:
            return None
        spool = self.events.spool
        return {"files": len(spool.files()), "bytes": spool.size(), "max_bytes": spool.max_bytes,
                "dropped": spool.dropped_events, "sent": self.forwarder.sent_events,
                "rejected_batches": self.forwarder.rejected_batches,
                "last_error": self.forwarder.last_error}

    def metrics(self) -> str:
        """Prometheus text: what an edge monitoring agent scrapes."""
        lines = [f'kepler_edge_requests_total{{model="{self.name}"}} {self.requests}',
                 f'kepler_edge_rows_total{{model="{self.name}"}} {self.rows}',
                 f'kepler_edge_input_errors_total{{model="{self.name}"}} {self.errors}',
                 f"kepler_edge_uptime_seconds {time.time() - self.started:.1f}"]
        stats = self.spool_stats()
        if stats is not None:
            lines += [f"kepler_edge_spool_bytes {stats['bytes']}",
                      f"kepler_edge_spool_batches {stats['files']}",
                      f"kepler_edge_spool_dropped_total {stats['dropped']}",
                      f"kepler_edge_hec_sent_total {stats['sent']}",
                      f"kepler_edge_hec_rejected_batches_total {stats['rejected_batches']}"]
        return "\n".join(lines) + "\n"


def _datatype(values: Sequence[Any]) -> str:
    sample = next((v for v in values if v is not None), None)
    if isinstance(sample, bool):
        return "BOOL"
    if isinstance(sample, int):
        return "INT64"
    if isinstance(sample, float):
        return "FP64"
    return "BYTES"


def _flatten(data: Any) -> list[Any]:
    if not isinstance(data, list):
        return [data]
    return [v for item in data for v in _flatten(item)]


def v2_rows(body: Any, names: list[str]) -> list[dict[str, Any]]:
    """Records from v2 input tensors (one per feature, or one [N, len(names)] in order)."""
    tensors = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(tensors, list) or not tensors or not all(isinstance(t, dict)
                                                               for t in tensors):
        raise InputError([_error(["inputs"], "a list of input tensors is required",
                                 "list_type")])
    for position, tensor in enumerate(tensors):
        for key in ("name", "shape", "data"):
            if key not in tensor:
                raise InputError([_error(["inputs", position, key], "Field required",
                                         "missing")])
    if len(tensors) == 1 and tensors[0]["name"] not in names:
        flat, width = _flatten(tensors[0]["data"]), len(names)
        if tensors[0]["shape"] != [len(flat) // width, width] or len(flat) % width:
            raise InputError([_error(["inputs", 0, "shape"], f"a single input tensor must "
                                     f"have shape [N, {width}]", "value_error")])
        return [dict(zip(names, flat[i:i + width], strict=True))
                for i in range(0, len(flat), width)]
    columns = {}
    for position, tensor in enumerate(tensors):
        if tensor["name"] not in names:
            raise InputError([_error(["inputs", position, "name"], "not a feature of this "
                                     "model (GET /v2/models/NAME lists them)", "value_error")])
        columns[tensor["name"]] = _flatten(tensor["data"])
    counts = {len(v) for v in columns.values()}
    if len(counts) != 1:
        raise InputError([_error(["inputs"], "every input tensor must hold the same number of "
                                 "rows", "value_error")])
    count = counts.pop()
    return [{name: values[i] for name, values in columns.items()} for i in range(count)]


class Handler(http.server.BaseHTTPRequestHandler):
    """The routes of ``kepler serve`` over one :class:`Runner`."""

    runner: Runner
    protocol_version = "HTTP/1.1"
    server_version = "kepler-edge"
    # headers and body leave in two writes: without TCP_NODELAY, Nagle's algorithm and the
    # client's delayed ACK add ~40 ms to every kept-alive request
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        log.debug("%s " + format, self.address_string(), *args)

    def _send(self, status: int, payload: Any, content_type: str = "application/json") -> None:
        body = payload if isinstance(payload, bytes) else (
            payload.encode() if isinstance(payload, str) else json.dumps(payload).encode())
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Request-ID", self._request_id())
        self.end_headers()
        self.wfile.write(body)

    def _request_id(self) -> str:
        if not hasattr(self, "_rid"):
            given = (self.headers.get("X-Request-ID") or "")[:64]
            self._rid = given or uuid.uuid4().hex[:16]
        return self._rid

    def do_GET(self) -> None:
        runner, path = self.server_runner(), self.path.split("?", 1)[0].rstrip("/") or "/"
        model = f"/v2/models/{runner.name}"
        routes = {
            "/health": lambda: (200, {"status": "ok"}),
            "/ready": lambda: (200, {"status": "ready", "model": runner.name,
                                     "version": runner.manifest.get("version")}),
            "/metadata": lambda: (200, runner.metadata()),
            "/v2": lambda: (200, {"name": "kepler-edge", "version": "1", "extensions": []}),
            "/v2/health/live": lambda: (200, {"live": True}),
            "/v2/health/ready": lambda: (200, {"ready": True}),
            model: lambda: (200, runner.v2_metadata()),
            f"{model}/ready": lambda: (200, {"name": runner.name, "ready": True}),
            "/": lambda: (200, {"model": runner.name, "version": runner.manifest.get("version"),
                                "predict": "/predict", "metadata": "/metadata",
                                "infer": f"{model}/infer"}),
        }
        if path == "/metrics":
            self._send(200, runner.metrics(), "text/plain; version=0.0.4")
        elif path in routes:
            self._send(*routes[path]())
        elif path.startswith("/v2/models/"):
            self._send(404, {"error": f"This server serves one model: {runner.name}."})
        else:
            self._send(404, {"detail": "Not Found"})

    def do_POST(self) -> None:
        runner, path = self.server_runner(), self.path.split("?", 1)[0].rstrip("/")
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if path not in ("/predict", f"/v2/models/{runner.name}/infer"):
            self._send(404, {"detail": "Not Found"} if not path.startswith("/v2/models/") else
                       {"error": f"This server serves one model: {runner.name}."})
            return
        try:
            try:
                body = json.loads(raw)
            except ValueError:
                raise InputError([_error(["body"], "Invalid JSON", "json_invalid")]) from None
            if path == "/predict":
                self._send(200, runner.predict(_instances(body), self._request_id()))
            else:
                self._send(200, runner.infer(body, self._request_id()))
        except InputError as exc:
            with runner.lock:
                runner.errors += 1
            self._send(422, {"detail": exc.errors})
        except Exception:
            log.exception("scoring failed")
            self._send(500, {"detail": "Scoring failed: see the runner's log."})

    def server_runner(self) -> Runner:
        return self.runner


def _instances(body: Any) -> Any:
    if not isinstance(body, dict):
        raise InputError([_error([], "Input should be a valid dictionary", "dict_type")])
    if "instances" not in body:
        raise InputError([_error(["instances"], "Field required", "missing")])
    extra = set(body) - {"instances", "parameters"}
    if extra:
        raise InputError([_error([sorted(extra)[0]], "Extra inputs are not permitted",
                                 "extra_forbidden")])
    return body["instances"]


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(runner: Runner, host: str, port: int) -> None:
    handler = type("BoundHandler", (Handler,), {"runner": runner})
    with Server((host, port), handler) as server:
        log.info("serving %s on http://%s:%d", runner.name, host, server.server_address[1])
        signal.signal(signal.SIGTERM, _interrupt)  # systemd/docker stop: as Ctrl-C
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
    if runner.forwarder is not None:  # what is still spooled is sent after the next start
        runner.forwarder.stopping.set()


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


# --- batch mode ------------------------------------------------------------------------------


def read_rows(path: Path) -> Iterator[dict[str, Any]]:
    """Records of a CSV (header row; empty cell = null) or JSON Lines file."""
    with path.open(newline="") as handle:
        if path.suffix.lower() == ".csv":
            for row in csv.DictReader(handle):
                yield {k: (v if v != "" else None) for k, v in row.items()}
        else:
            for line in handle:
                if line.strip():
                    yield json.loads(line)


def write_rows(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    """Write scored rows as CSV or JSON Lines (by suffix); the count written."""
    count = 0
    with path.open("w", newline="") as handle:
        writer: Any = None
        for row in rows:
            if path.suffix.lower() == ".csv":
                if writer is None:
                    writer = csv.DictWriter(handle, fieldnames=list(row))
                    writer.writeheader()
                writer.writerow({k: json.dumps(v) if isinstance(v, list) else v
                                 for k, v in row.items()})
            else:
                handle.write(json.dumps(row) + "\n")
            count += 1
    return count


def batch(runner: Runner, source: Path, target: Path, chunk: int = 1000) -> int:
    """Score every row of ``source`` into ``target``: the input columns plus ``prediction``
    (and ``probabilities``, ``row_id`` where HEC is on). Bad rows stop the run with the errors
    of the chunk, naming row and field."""

    def scored() -> Iterator[dict[str, Any]]:
        pending: list[dict[str, Any]] = []
        for row in [*read_rows(source), None]:
            if row is not None:
                pending.append(row)
            if pending and (row is None or len(pending) >= chunk):
                answer = runner.predict(pending, uuid.uuid4().hex[:16])
                for i, original in enumerate(pending):
                    out = {**original, "prediction": answer["predictions"][i]}
                    if "probabilities" in answer:
                        out["probabilities"] = answer["probabilities"][i]
                    if "row_ids" in answer:
                        out["row_id"] = answer["row_ids"][i]
                    yield out
                pending = []

    return write_rows(target, scored())


# --- the command line ------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Score a Kepler edge bundle.")
    parser.add_argument("--bundle", type=Path, default=Path(__file__).resolve().parent)
    parser.add_argument("--host", default=os.environ.get("KEPLER_EDGE__HOST_BIND", "0.0.0.0"))  # noqa: S104
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    parser.add_argument("--input", type=Path, help="batch mode: a CSV or JSON Lines file")
    parser.add_argument("--output", type=Path, help="batch mode: where predictions go")
    parser.add_argument("--drain", type=float, default=10.0,
                        help="batch mode: seconds to wait for the spool to reach HEC")
    args = parser.parse_args(argv)
    logging.basicConfig(level=os.environ.get("KEPLER_EDGE__LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        manifest = verify_bundle(args.bundle)
    except BundleError as exc:
        log.error("refusing to load the bundle: %s", exc)
        return EXIT_TAMPERED
    runner = Runner(args.bundle, manifest, dict(os.environ))
    if args.input is not None:
        return _batch_main(runner, args)
    serve(runner, args.host, args.port)
    return 0


def _batch_main(runner: Runner, args: argparse.Namespace) -> int:
    if args.output is None:
        log.error("--input needs --output")
        return 2
    try:
        count = batch(runner, args.input, args.output)
    except InputError as exc:
        log.error("bad input: %s", json.dumps(exc.errors))
        return 4
    log.info("scored %d row(s) into %s", count, args.output)
    deadline = time.monotonic() + args.drain
    while runner.events is not None and runner.events.spool.files() and \
            time.monotonic() < deadline:
        time.sleep(0.1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
