"""``SplunkTestServer``: a local splunkd look-alike for tests, benchmarks and demos.

Start one in a background thread (``with SplunkTestServer() as server:``) or in another process
(``python -m kepler_splunk_testing``, see ``__main__.py`` and ``process.py``), register data per
index, and point splunklib or any HTTP client at ``server.url``. See this distribution's
README.md for a tour.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from kepler_splunk_testing.auth import (
    ADMIN_CAPABILITIES,
    USER_CAPABILITIES,
    Authenticator,
    SplunkUser,
)
from kepler_splunk_testing.engine import SearchEngine
from kepler_splunk_testing.jobs import JobStore
from kepler_splunk_testing.protocol import ServerSettings
from kepler_splunk_testing.results import Message
from kepler_splunk_testing.server_ext import ServerExtensions

if TYPE_CHECKING:
    from kepler_splunk_testing.api import RecordedRequest

__all__ = [
    "DEFAULT_PASSWORD",
    "DEFAULT_TOKEN",
    "DEFAULT_USERNAME",
    "MessageLike",
    "SplunkTestServer",
]

DEFAULT_USERNAME = "admin"
DEFAULT_PASSWORD = "changeme"  # noqa: S105 - Splunk's well-known default, for a local test server
DEFAULT_TOKEN = "kepler-test-token"  # noqa: S105 - a test credential by design

BUILTIN_INDEXES: tuple[tuple[str, Literal["event", "metric"]], ...] = (
    ("_audit", "event"),
    ("_internal", "event"),
    ("_metrics", "metric"),
    ("history", "event"),
    ("main", "event"),
    ("summary", "event"),
)

MessageLike = Message | tuple[str, str] | str
"""A job message: ``Message("WARN", "...")``, ``("WARN", "...")`` or a plain string (INFO)."""


class SplunkTestServer(ServerExtensions):
    """A Splunk Enterprise management port (REST API) on 127.0.0.1, in a background thread.

    Args:
        port: TCP port; 0 (default) lets the OS pick one (read it from ``server.port``).
        https: serve TLS with a certificate from a CA made at start (``server.ca_file``).
        version: what ``/services/server/info`` reports. From "9.0.2" the ``search/v2`` paths
            exist (splunklib then uses them, fetching results by POST); below, only v1.
        username, password: the default admin account.
        token: an authentication token for ``Authorization: Bearer`` (mapped to ``username``).
        users: extra accounts (``SplunkUser``), e.g. one lacking the ``search`` capability.
        dispatch_delay: seconds a job takes from QUEUED to DONE, so polling code is exercised.
        max_result_rows: ``limits.conf [restapi] maxresultrows``: the most rows one results page
            holds (``count=0`` means "up to this").
        export_preview_sets: preview sets streamed before the final set when exporting a
            reporting (canned) search, unless the client sends ``preview=false``.
        default_ttl: seconds an idle job lives before it expires (Splunk's default is 600).
        session_timeout: seconds an idle session key stays valid.
        empty_status_while_queued: answer ``GET jobs/{sid}`` with 204 while a job is QUEUED, as
            splunkd does right after creation.
        server_name: ``serverName``/``splunk_server`` of results.
        extra_commands: search commands to accept besides Splunk's built-in ones (app commands).
        hec_max_content_length: the most bytes (after gzip decompression) one HTTP Event
            Collector request may carry; larger ones get HTTP 413.
        request_latency: seconds every REST request waits before its answer (a network round
            trip plus splunkd's own work per request; 0.02-0.1 s is typical of a real search
            head). Requests made concurrently wait concurrently.
        bandwidth: bytes per second each response is sent at (0: unlimited), so bigger output
            modes cost wall time as they do over a real network.
        scan_rate: events per second a search job scans (0: instant): a job over N events is
            done ``dispatch_delay + N / scan_rate`` seconds after it was created.
        hec_port: the HTTP Event Collector's TCP port (0: any free port).
        hec_token: the value of the default HEC token (default: a new GUID per server), so a
            configuration pointing at a restarted server keeps working.
    """

    def __init__(
        self,
        *,
        port: int = 0,
        https: bool = False,
        version: str = "9.3.0",
        username: str = DEFAULT_USERNAME,
        password: str = DEFAULT_PASSWORD,
        token: str | None = DEFAULT_TOKEN,
        users: Iterable[SplunkUser] = (),
        dispatch_delay: float = 0.05,
        max_result_rows: int = 50_000,
        export_preview_sets: int = 1,
        default_ttl: int = 600,
        session_timeout: float = 3600.0,
        empty_status_while_queued: bool = True,
        server_name: str = "kepler-splunk-test",
        extra_commands: Iterable[str] = (),
        hec_max_content_length: int = 1_000_000,
        request_latency: float = 0.0,
        bandwidth: float = 0.0,
        scan_rate: float = 0.0,
        hec_port: int = 0,
        hec_token: str | None = None,
    ) -> None:
        if max_result_rows < 1:
            raise ValueError(f"max_result_rows must be >= 1, got {max_result_rows}")
        for knob, value in (("dispatch_delay", dispatch_delay),
                            ("request_latency", request_latency), ("bandwidth", bandwidth)):
            if value < 0:
                raise ValueError(f"{knob} must be >= 0, got {value}")
        self.request_latency = request_latency
        self.bandwidth = bandwidth
        self.settings = ServerSettings(
            version=version,
            server_name=server_name,
            dispatch_delay=dispatch_delay,
            max_result_rows=max_result_rows,
            default_ttl=default_ttl,
            empty_status_while_queued=empty_status_while_queued,
        )
        self.username = username
        self.password = password
        self.token = token
        admin = SplunkUser(username, password, ADMIN_CAPABILITIES, ("admin",))
        self.auth = Authenticator.build(
            [admin, *users], {token: username} if token else {}, session_timeout
        )
        self.engine = SearchEngine(
            server_name=server_name,
            extra_commands=frozenset(name.lower() for name in extra_commands),
            default_preview_sets=export_preview_sets,
        )
        for name, datatype in BUILTIN_INDEXES:  # present (and empty) on every splunkd
            self.add_index(name, None, datatype)
        self.jobs = JobStore(scan_rate)
        # HEC, tokens, views, saved searches
        self._init_extensions(hec_max_content_length, hec_port, hec_token)
        self._https = https
        self._requested_port = port
        self._requests: list[RecordedRequest] = []
        self._requests_lock = threading.Lock()
        self._httpd: Any = None
        self._thread: threading.Thread | None = None
        self._tempdir: Path | None = None
        self.ca_file: str | None = None
        """Path of the CA certificate to verify the HTTPS server against (None for HTTP)."""
        self.cert_file: str | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> SplunkTestServer:
        """Bind, start serving in a daemon thread and return self. Idempotent."""
        if self._httpd is not None:
            return self
        from kepler_splunk_testing.api import Api
        from kepler_splunk_testing.httpd import SplunkHTTPServer

        context = None
        if self._https:
            from kepler_splunk_testing.tls import make_tls_files, server_context

            self._tempdir = Path(tempfile.mkdtemp(prefix="kepler-splunk-tls-"))
            files = make_tls_files(self._tempdir)
            self.ca_file, self.cert_file = str(files.ca_file), str(files.cert_file)
            context = server_context(files)
        api = Api(self.settings, self.engine, self.jobs, self.auth, lambda: self.url, self._record)
        self._httpd = SplunkHTTPServer(self._requested_port, api, context)
        self._httpd.request_latency = self.request_latency
        self._httpd.bandwidth = self.bandwidth
        self.auth.cookie_name = f"splunkd_{self.port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"splunk-test-server:{self.port}",
            daemon=True,
        )
        self._thread.start()
        self._start_extensions(api)
        return self

    def stop(self) -> None:
        """Stop serving, close open connections and remove the TLS files. Idempotent."""
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.close_connections()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._stop_extensions()
        if self._tempdir is not None:
            shutil.rmtree(self._tempdir, ignore_errors=True)
            self._tempdir = None

    def __enter__(self) -> SplunkTestServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._httpd is not None

    # -- addresses ----------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the server is not running: call start() or use it as a context")
        return int(self._httpd.server_address[1])

    @property
    def scheme(self) -> Literal["http", "https"]:
        return "https" if self._https else "http"

    @property
    def url(self) -> str:
        """``http(s)://127.0.0.1:PORT``, the management-port base URL."""
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def version(self) -> str:
        return self.settings.version

    def connection_info(self) -> dict[str, Any]:
        """What a client needs to connect (the CLI prints this as one JSON line)."""
        return {
            "url": self.url,
            "host": self.host,
            "port": self.port,
            "scheme": self.scheme,
            "username": self.username,
            "password": self.password,
            "token": self.token,
            "ca_file": self.ca_file,
            "version": self.version,
            "hec_url": self.hec_url,
            "hec_port": self.hec_port,
            "hec_token": self.hec_token,
            "indexes": [
                index.name
                for index in self.engine.index_list()
                if index.name not in dict(BUILTIN_INDEXES)
            ],
        }

    # -- data ---------------------------------------------------------------------------------

    def add_index(
        self,
        name: str,
        data: Any = None,
        datatype: Literal["event", "metric"] = "event",
        *,
        host: str = "kepler-test-host",
        source: str = "kepler-test",
        sourcetype: str | None = None,
    ) -> None:
        """Register (or replace) index ``name`` with rows that need a ``_time`` column.

        ``data`` is a pandas DataFrame, a pyarrow Table or a list of dicts; ``_time`` holds
        datetimes (naive = UTC) or epoch seconds. ``search index=NAME`` returns the rows whose
        ``_time`` lies in [earliest_time, latest_time), newest first, each with Splunk's
        internal fields (``_bkt``, ``_cd``, ``_serial``, ``host``, ``sourcetype``, ...) unless
        the data has its own column of that name. ``datatype="metric"`` makes a metric index of
        data points (``_time``, ``metric_name``, ``_value`` and dimension columns; rows with
        ``metric_name:<name>`` columns are split into one point per measurement): ``search``
        finds nothing there (as in Splunk); ``| mstats``, ``| mcatalog`` and ``| mpreview`` read
        it.
        """
        from kepler_splunk_testing.datasets import Index, empty_time_dataset, to_dataset
        from kepler_splunk_testing.metricdata import metric_dataset

        if datatype not in ("event", "metric"):
            raise ValueError(f"datatype must be 'event' or 'metric', got {datatype!r}")
        if not re.fullmatch(r"[a-z0-9_][a-z0-9_\-]*", name):
            raise ValueError(
                f"invalid index name {name!r}: use lower-case letters, digits, '_' and '-'"
            )
        if datatype == "metric":
            dataset = metric_dataset(data)  # one data point per row, newest first
        else:
            dataset = (
                empty_time_dataset() if data is None else to_dataset(data, require_time=True)
            ).newest_first()
        default_sourcetype = "kepler:metrics" if datatype == "metric" else "kepler:test"
        self.engine.add_index(
            Index(name, datatype, dataset, host, source, sourcetype or default_sourcetype)
        )

    def add_search(
        self,
        pattern: str | re.Pattern[str],
        data: Any,
        messages: Sequence[MessageLike] = (),
        *,
        preview_sets: int | None = None,
    ) -> None:
        """Answer any search whose SPL matches ``pattern`` (``re.search``, case-insensitive).

        ``data`` is a DataFrame / Table / list of dicts returned as is (no time filtering), or a
        callable taking a :class:`~kepler_splunk_testing.SearchRequest` (spl, earliest, latest,
        params, match) and returning such data. ``messages`` are attached to the job and its
        results. ``preview_sets`` overrides ``export_preview_sets`` for this search. The newest
        registration wins when several patterns match.
        """
        self.engine.add_search(pattern, data, _messages(messages), preview_sets)

    def fail_search(
        self, pattern: str | re.Pattern[str], message: str, *, after_dispatch: bool = True
    ) -> None:
        """Make searches matching ``pattern`` fail with ``message`` (a FATAL message).

        ``after_dispatch=True``: the job is created, runs, then ends with ``isFailed=1`` and
        ``dispatchState=FAILED``; export streams the message. ``False``: creating the job answers
        HTTP 400 with the message, like a parse error.
        """
        self.engine.fail_search(pattern, message, after_dispatch)

    # -- accounts -----------------------------------------------------------------------------

    def add_user(
        self,
        name: str,
        password: str,
        capabilities: Iterable[str] | None = None,
        roles: Sequence[str] = ("user",),
    ) -> SplunkUser:
        """Add an account; ``capabilities`` default to Splunk's ``user`` role (can search,
        cannot list all indexes)."""
        user = SplunkUser(
            name,
            password,
            frozenset(USER_CAPABILITIES if capabilities is None else capabilities),
            tuple(roles),
        )
        self.auth.add_user(user)
        return user

    def add_token(self, token: str, username: str | None = None) -> None:
        """Accept ``Authorization: Bearer token`` as ``username`` (default: the admin)."""
        self.auth.add_token(token, username or self.username)

    def revoke_token(self, token: str) -> None:
        self.auth.revoke_token(token)

    def expire_sessions(self) -> None:
        """Invalidate every session key and cookie: the next request gets 401 (tests re-login)."""
        self.auth.expire_sessions()

    # -- observation --------------------------------------------------------------------------

    def _record(self, entry: RecordedRequest) -> None:
        with self._requests_lock:
            self._requests.append(entry)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request so far (``RecordedRequest``: method, path, endpoint, params, status)."""
        with self._requests_lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._requests_lock:
            self._requests.clear()

    def requests_to(
        self, endpoint_pattern: str, method: str | None = None
    ) -> list[RecordedRequest]:
        """Requests whose endpoint (path below ``/services``) matches ``endpoint_pattern``.

        Example: ``server.requests_to(r"search/(v2/)?jobs/[^/]+/results$")`` counts result pages.
        """
        compiled = re.compile(endpoint_pattern)
        return [
            entry
            for entry in self.requests
            if compiled.search(entry.endpoint) and (method is None or entry.method == method)
        ]

    def job_ids(self) -> list[str]:
        """Sids of the jobs that exist now (cancelled, deleted and expired jobs are gone)."""
        return [job.sid for job in self.jobs.all()]


def _messages(messages: Sequence[MessageLike]) -> list[Message]:
    out = []
    for message in messages:
        if isinstance(message, Message):
            out.append(message)
        elif isinstance(message, str):
            out.append(Message("INFO", message))
        else:
            kind, text = message
            out.append(Message(kind.upper(), text))
    return out
