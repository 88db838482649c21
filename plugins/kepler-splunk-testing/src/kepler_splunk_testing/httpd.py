"""HTTP plumbing: a threaded stdlib server speaking HTTP/1.1 with keep-alive, TLS and streaming.

Why the stdlib ``ThreadingHTTPServer`` rather than an ASGI stack: it adds no dependency, each
connection gets its own thread (splunklib opens one connection per request, and Kepler's client
fetches pages concurrently), and it is not the bottleneck. Measured on the development machine, a
50,000-row JSON page (27.6 MB) takes 55-80 ms to render and a client on the same machine has it
10-20 ms later (the chunks go straight to ``socket.sendall``; the page's Arrow buffer is never
copied); 1,000,000 rows as CSV pages reach a client in another process in under a second. A
faster transport would change end-to-end time by little. The TLS handshake runs in the
connection's thread, not in the accept loop, so a slow or broken client cannot stall others.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from kepler_splunk_testing.protocol import Params, Request, Response

__all__ = ["SplunkHTTPServer"]

MAX_BODY_BYTES = 64 * 1024 * 1024
_STANDARD_HEADERS = (
    ("Cache-Control", "no-store, no-cache, must-revalidate, max-age=0"),
    ("Expires", "Thu, 26 Oct 1978 00:00:00 GMT"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "SAMEORIGIN"),
    ("Vary", "Cookie, Authorization"),
)
_DISCONNECTS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, ssl.SSLError)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60  # an idle keep-alive connection is closed after a minute
    server: SplunkHTTPServer

    def version_string(self) -> str:
        return "Splunkd"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Silent: the server keeps its own request log (``SplunkTestServer.requests``)."""

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_DELETE = do_PUT = do_GET

    def _serve(self) -> None:
        body = self._read_body()
        if body is None:
            return
        url = urlsplit(self.path)
        pairs = parse_qsl(url.query, keep_blank_values=True)
        content_type = (self.headers.get("Content-Type") or "").lower()
        if body and "json" not in content_type and "multipart" not in content_type:
            # splunklib often sends form bodies with no Content-Type at all
            pairs += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        request = Request(self.command, url.path, Params(pairs), dict(self.headers.items()), body)
        if self.server.request_latency > 0:
            time.sleep(self.server.request_latency)
        self._write(self.server.api.handle(request))

    def _read_body(self) -> bytes | None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        length_text = self.headers.get("Content-Length") or "0"
        try:
            length = int(length_text)
        except ValueError:
            self.send_error(400, "Bad Content-Length")
            return None
        if length > MAX_BODY_BYTES:
            self.send_error(413, "Request body too large")
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes | None:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip() or b"0", 16)
            except ValueError:
                self.send_error(400, "Bad chunk size")
                return None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            total += size
            if total > MAX_BODY_BYTES:
                self.send_error(413, "Request body too large")
                return None
            parts.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def _write(self, response: Response) -> None:
        try:
            self.send_response(response.status)
            headers = list(_STANDARD_HEADERS)
            if response.status != 204:
                headers.append(("Content-Type", response.content_type))
            headers.extend(response.headers)
            if self.close_connection:
                headers.append(("Connection", "Close"))
            for name, value in headers:
                self.send_header(name, value)
            body = response.body
            if isinstance(body, (bytes, list)):
                chunks = [body] if isinstance(body, bytes) else body
                if response.status != 204:
                    self.send_header("Content-Length", str(sum(len(c) for c in chunks)))
                self.end_headers()
                if response.status != 204:
                    for chunk in chunks:
                        self._throttle(len(chunk))
                        self.wfile.write(chunk)
            else:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self._write_chunked(body)
        except _DISCONNECTS:
            self.close_connection = True  # the client went away; nothing left to tell it

    def _throttle(self, size: int) -> None:
        """Hold a response to ``server.bandwidth`` bytes per second (per connection)."""
        if self.server.bandwidth > 0 and size:
            time.sleep(size / self.server.bandwidth)

    def _write_chunked(self, body: Iterator[bytes | memoryview]) -> None:
        try:
            for chunk in body:
                if len(chunk):
                    self._throttle(len(chunk))
                    self.wfile.write(b"%x\r\n" % len(chunk))
                    self.wfile.write(chunk)
                    self.wfile.write(b"\r\n")
        except _DISCONNECTS:
            raise
        except Exception:
            # Too late to change the status: end the connection without the final chunk, so the
            # client sees a truncated stream instead of a silently short one.
            traceback.print_exc()
            self.close_connection = True
            return
        self.wfile.write(b"0\r\n\r\n")


class SplunkHTTPServer(ThreadingHTTPServer):
    """Binds 127.0.0.1 only; one daemon thread per connection; optional TLS."""

    daemon_threads = True
    request_queue_size = 128
    handler_class: type[BaseHTTPRequestHandler] = _Handler  # subclasses may serve another one

    request_latency = 0.0
    """Seconds every request waits before it is answered (network round trip plus splunkd's
    own overhead), so clients that make many requests pay for them as on a real deployment."""
    bandwidth = 0.0
    """Bytes per second one response is sent at (0: as fast as the socket takes them)."""

    def __init__(self, port: int, api: Any, ssl_context: ssl.SSLContext | None) -> None:
        self.api = api
        self.ssl_context = ssl_context
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), self.handler_class)

    def finish_request(self, request: Any, client_address: Any) -> None:
        connection = request
        if self.ssl_context is not None:
            request.settimeout(10)
            try:
                connection = self.ssl_context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                request.close()
                return
            connection.settimeout(None)
        with self._connections_lock:
            self._connections.add(connection)
        try:
            self.RequestHandlerClass(connection, client_address, self)
        finally:
            with self._connections_lock:
                self._connections.discard(connection)
            if connection is not request:
                with contextlib.suppress(OSError):
                    connection.close()

    def close_connections(self) -> None:
        """Wake every thread blocked on a keep-alive connection so ``stop()`` is prompt."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, (*_DISCONNECTS, TimeoutError, OSError)):
            return
        super().handle_error(request, client_address)
