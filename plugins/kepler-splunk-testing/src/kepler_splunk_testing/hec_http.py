"""The HEC port's HTTP plumbing: the management port's server with a handler that reads
parameters from the query string only and can drop a connection without answering.

A HEC body is data (JSON events, raw lines, possibly gzip), never form parameters, so unlike the
management port the body is not parsed as ``key=value`` pairs: a raw line ``index=x`` must not
change the target index.
"""

from __future__ import annotations

import contextlib
import socket
import struct
from urllib.parse import parse_qsl, urlsplit

from kepler_splunk_testing.httpd import SplunkHTTPServer, _Handler
from kepler_splunk_testing.protocol import Params, Request

__all__ = ["HecHTTPServer"]


class _HecHandler(_Handler):
    def setup(self) -> None:
        super().setup()
        # headers and body leave in two writes; without this, Nagle's algorithm and the client's
        # delayed ACK add ~40 ms to every answer on a keep-alive connection
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _serve(self) -> None:
        body = self._read_body()
        if body is None:
            return
        url = urlsplit(self.path)
        pairs = parse_qsl(url.query, keep_blank_values=True)
        request = Request(self.command, url.path, Params(pairs), dict(self.headers.items()), body)
        response = self.server.api.handle(request)
        if response is None:
            self._abort()
            return
        self._write(response)

    def _abort(self) -> None:
        """Close the connection with a reset and no answer (the ``drop_rate`` fault)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


class HecHTTPServer(SplunkHTTPServer):
    """127.0.0.1 only, one thread per connection, HTTP/1.1 keep-alive, optional TLS."""

    handler_class = _HecHandler
