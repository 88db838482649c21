"""What ``SplunkTestServer`` offers besides search: the HEC port, HEC tokens, dashboards, saved
searches. A mixin, so ``server.py`` only wires it in (construction, start, stop).

The HTTP Event Collector listens on its own port (``server.hec_url``), started and stopped with
the management port, with the same scheme and, for HTTPS, the same CA (``server.ca_file``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kepler_splunk_testing.hec import HecCollector, HecFaults, HecStats
from kepler_splunk_testing.knowledge import KnowledgeStore

if TYPE_CHECKING:
    from kepler_splunk_testing.protocol import Request, Response

__all__ = ["DEFAULT_HEC_TOKEN_NAME", "ServerExtensions"]

DEFAULT_HEC_TOKEN_NAME = "kepler-default"  # noqa: S105 - a token name, not a secret


class ServerExtensions:
    """HEC, HEC tokens, dashboards and saved searches for :class:`SplunkTestServer`."""

    # provided by SplunkTestServer
    engine: Any
    settings: Any
    ca_file: str | None
    cert_file: str | None
    _https: bool
    _tempdir: Path | None
    _record: Callable[[Any], None]

    def _init_extensions(
        self, hec_max_content_length: int, hec_port: int = 0, hec_token: str | None = None
    ) -> None:
        self.hec = HecCollector(
            self.engine,
            server_name=self.settings.server_name,
            max_content_length=hec_max_content_length,
            record=self._record_hec,
        )
        self.hec_token: str = self.hec.add_token(hec_token, name=DEFAULT_HEC_TOKEN_NAME).token
        """The GUID of the default HEC token ("kepler-default": no ack, every index)."""
        self.knowledge = KnowledgeStore()
        self._hec_httpd: Any = None
        self._hec_thread: threading.Thread | None = None
        self._hec_requested_port = hec_port

    # -- lifecycle (called by start/stop) -----------------------------------------------------

    def _start_extensions(self, api: Any) -> None:
        from kepler_splunk_testing.api_config import ConfigApi

        config = ConfigApi(
            self.settings,
            self.engine,
            self.hec,
            self.knowledge,
            api.search,
            api.base_url,
            self._hec_settings,
        )
        api.extra_routes = config.route
        if self._hec_httpd is not None:
            return
        from kepler_splunk_testing.hec_http import HecHTTPServer

        context = None
        if self._https and self.ca_file and self.cert_file and self._tempdir is not None:
            from kepler_splunk_testing.tls import TlsFiles, server_context

            files = TlsFiles(
                Path(self.ca_file), Path(self.cert_file), self._tempdir / "server-key.pem"
            )
            context = server_context(files)
        self._hec_httpd = HecHTTPServer(self._hec_requested_port, self.hec, context)
        self._hec_thread = threading.Thread(
            target=self._hec_httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"splunk-test-hec:{self.hec_port}",
            daemon=True,
        )
        self._hec_thread.start()

    def _stop_extensions(self) -> None:
        httpd, self._hec_httpd = self._hec_httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.close_connections()
            httpd.server_close()
        if self._hec_thread is not None:
            self._hec_thread.join(timeout=5)
            self._hec_thread = None

    # -- HEC ----------------------------------------------------------------------------------

    @property
    def hec_port(self) -> int:
        if self._hec_httpd is None:
            raise RuntimeError("the server is not running: call start() or use it as a context")
        return int(self._hec_httpd.server_address[1])

    @property
    def hec_url(self) -> str:
        """``http(s)://127.0.0.1:PORT`` of the HTTP Event Collector (same scheme and CA)."""
        return f"{'https' if self._https else 'http'}://127.0.0.1:{self.hec_port}"

    def add_hec_token(
        self,
        token: str | None = None,
        *,
        name: str | None = None,
        index: str | None = None,
        indexes: Iterable[str] | None = None,
        sourcetype: str | None = None,
        use_ack: bool = False,
        disabled: bool = False,
        query_string_auth: bool = False,
    ) -> str:
        """Add a HEC token and return its value (a new GUID unless ``token`` is given).

        ``index``: default index of its events; ``indexes``: the only indexes it may write to
        (default: any); ``use_ack``: indexer acknowledgement (channels required);
        ``query_string_auth``: accept it as ``?token=``. Raises ValueError for a name or value
        already in use.
        """
        return self.hec.add_token(
            token,
            name=name,
            index=index,
            indexes=indexes,
            sourcetype=sourcetype,
            use_ack=use_ack,
            disabled=disabled,
            query_string_auth=query_string_auth,
        ).token

    def hec_events(self, index: str | None = None) -> list[dict[str, Any]]:
        """Events HEC accepted, oldest first: each as received plus ``index`` (resolved),
        ``_token`` (token name) and ``_channel`` (None without one)."""
        return self.hec.events(index)

    @property
    def hec_stats(self) -> HecStats:
        """Counters: requests, events_indexed, busy_replies, dropped, acks_withheld, ..."""
        return self.hec.stats

    def hec_faults(
        self,
        busy_rate: float = 0.0,
        drop_rate: float = 0.0,
        withhold_acks: float = 0.0,
        unhealthy: bool = False,
        seed: int = 0,
        *,
        reject_acks: bool = False,
        reject_gzip_acks: bool = False,
    ) -> None:
        """Make HEC misbehave (call with no arguments to stop).

        ``busy_rate``: share of event/raw requests answered 503 "Server is busy" (code 9),
        nothing indexed; ``drop_rate``: share of event/raw requests whose connection is closed
        after the request is read, without an answer and without indexing; ``withhold_acks``:
        share of ackIds that never turn true (the events are indexed); ``unhealthy``: the health
        endpoint answers 503 (code 18); ``reject_acks``: every ack poll is answered 400
        "Invalid data format" (code 6), although the events are indexed; ``reject_gzip_acks``:
        only gzip-compressed ack polls are (an ack endpoint behind a proxy that does not
        decompress). Draws are repeatable for a given ``seed``.
        """
        self.hec.set_faults(
            HecFaults(
                busy_rate, drop_rate, withhold_acks, unhealthy, seed, reject_acks, reject_gzip_acks
            )
        )

    def _hec_settings(self) -> dict[str, Any]:
        return {
            "dedicatedIoThreads": 2,
            "disabled": False,
            "enableSSL": self._https,
            "maxSockets": 0,
            "maxThreads": 0,
            "max_content_length": self.hec.max_content_length,
            "port": self.hec_port if self._hec_httpd is not None else 8088,
            "useDeploymentServer": False,
        }

    def _record_hec(self, request: Request, response: Response | None, token: str | None) -> None:
        from kepler_splunk_testing.api import RecordedRequest

        lists = {
            key: ["********"] * len(values) if key == "token" else values
            for key, values in request.params.as_lists().items()
        }
        endpoint = request.path.removeprefix("/services").strip("/")
        self._record(
            RecordedRequest(
                request.method,
                request.path,
                endpoint,
                {key: values[-1] for key, values in lists.items()},
                lists,
                0 if response is None else response.status,
                token,
            )
        )

    # -- dashboards and saved searches --------------------------------------------------------

    def views(self, app: str | None = None) -> dict[str, str]:
        """Dashboards by name (their ``eai:data``), in ``app`` or in every app."""
        return {view.name: view.data for view in self.knowledge.views(app)}

    def saved_searches(self, app: str | None = None) -> dict[str, dict[str, str]]:
        """Saved searches by name: the parameters given at creation and updates (``search``,
        ``cron_schedule``, ``dispatch.earliest_time``, ...), in ``app`` or in every app."""
        return {saved.name: dict(saved.params) for saved in self.knowledge.saved_searches(app)}
