"""The ``http-csv`` connector: a CSV table served over HTTP(S), read into a DataFrame.

It is the template's example of "bring your own data source". Registered in ``plugin.py`` as a
``ConnectorSpec``, it works wherever Kepler reads data, with no change to Kepler::

    kepler train random_forest --connector http-csv --query https://plant.example/pumps.csv \
        --target failure
    kepler predict pump-failure --connector http-csv --query https://plant.example/today.csv ...

    frame = kepler.api.read_data("https://plant.example/pumps.csv", connector="http-csv",
                                 earliest="2026-01-01T00:00:00Z")

Columns named ``_time``, ``time`` or ``timestamp`` become UTC datetimes; ``earliest`` (included)
and ``latest`` (excluded) filter on the first of them. Every failure is a ``KeplerError`` with a
hint (what the server answered, what to check), never a traceback.
"""

from __future__ import annotations

import base64
import http.client
import io
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from typing import Any

from kepler.api import Config, KeplerError, ServiceError

NAME = "http-csv"
#: Columns parsed as UTC datetimes; the first one present is the one earliest/latest filter on.
TIME_COLUMNS = ("_time", "time", "timestamp")
OPTIONS = ("earliest", "latest", "timeout")


class HttpCsvConnector:
    """``query(url, earliest=None, latest=None, timeout=None)`` -> DataFrame.

    Built by Kepler with the configuration in force (the ``ConnectorSpec`` target is this class):
    ``audit.http_timeout`` and ``audit.http_max_bytes`` bound every download.
    """

    def __init__(self, config: Config) -> None:
        settings = config.section("audit")
        self.timeout: float = settings.http_timeout
        self.max_bytes: int = settings.http_max_bytes

    def query(self, query: str, **options: Any) -> Any:
        """Download the CSV at ``query`` (a URL) and return it as a DataFrame whose ``attrs``
        say where it came from: ``{"source": "http-csv", "url": ..., "rows": ...}``."""
        unknown = sorted(set(options) - set(OPTIONS))
        if unknown:
            raise KeplerError(
                f"The {NAME} connector has no option {', '.join(map(repr, unknown))}.",
                hint="Its options: earliest, latest (ISO 8601 times), timeout (seconds).")
        url = _check_url(query)
        timeout = _seconds(options.get("timeout"), self.timeout)
        body = _download(url, timeout=timeout, max_bytes=self.max_bytes)
        frame = _parse(body, _shown(url))
        frame = _between(frame, options.get("earliest"), options.get("latest"), _shown(url))
        frame.attrs = {"source": NAME, "url": _shown(url), "rows": len(frame)}
        return frame


def _check_url(query: str) -> str:
    url = str(query).strip()
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise KeplerError(
            f"The {NAME} connector reads http:// or https:// URLs, not {url!r}.",
            hint="Give the CSV's address, e.g. --query https://plant.example/pumps.csv; "
            "for a file on this machine use --data FILE.")
    return url


def _shown(url: str) -> str:
    """The URL without its user:password part (sent as basic auth instead): what is printed,
    requested and kept in the model's lineage."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def _seconds(value: Any, default: float) -> float:
    if value is None:
        return default
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = 0.0
    if not seconds > 0:
        raise KeplerError(f"timeout={value!r} is not a number of seconds above 0.",
                          hint="e.g. timeout=10")
    return seconds


def _download(url: str, *, timeout: float, max_bytes: int) -> bytes:
    """The response body, at most ``max_bytes``; HTTP and network failures as ServiceError."""
    from . import __version__

    shown = _shown(url)
    headers = {"User-Agent": f"kepler-audit/{__version__}",
               "Accept": "text/csv, text/plain;q=0.9, */*;q=0.5"}
    parts = urllib.parse.urlsplit(url)
    if parts.username is not None:  # https://user:password@host/...: HTTP basic auth
        user, password = (urllib.parse.unquote(p or "") for p in (parts.username, parts.password))
        pair = f"{user}:{password}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
    # The scheme was checked (http/https only) and redirects are held to the same schemes.
    request = urllib.request.Request(shown, headers=headers)  # noqa: S310
    opener = urllib.request.build_opener(_HttpOnlyRedirects)
    try:
        with opener.open(request, timeout=timeout) as response:
            kind = response.headers.get_content_type()
            body = response.read(max_bytes + 1)
    except urllib.error.HTTPError as exc:
        raise ServiceError(f"{shown} answered HTTP {exc.code} {exc.reason}.",
                           hint=_http_hint(exc.code)) from exc
    except (TimeoutError, urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError) or isinstance(exc, TimeoutError):
            raise ServiceError(
                f"{shown} did not answer within {timeout:g} s.",
                hint="Check the server, or allow more time: timeout=SECONDS, or "
                "audit.http_timeout in kepler.yml (KEPLER_AUDIT__HTTP_TIMEOUT).") from exc
        raise ServiceError(
            f"Cannot read {shown}: {reason or type(exc).__name__}.",
            hint="Check the URL, that the server is up, and that any proxy (HTTPS_PROXY) "
            "lets the request through.") from exc
    if len(body) > max_bytes:
        raise KeplerError(
            f"{shown} is larger than audit.http_max_bytes ({max_bytes} bytes).",
            hint="Ask for less (a narrower export), or raise audit.http_max_bytes.")
    if kind == "text/html":
        raise KeplerError(f"{shown} returned an HTML page, not a CSV.",
                          hint="It may be a login or error page: check the URL in a browser.")
    return body


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects to http(s) URLs only (urllib's default also follows ftp://), and
    never carry the basic-auth credentials to another host."""

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> Any:
        scheme = urllib.parse.urlsplit(newurl).scheme.lower()
        if scheme not in ("http", "https"):
            raise urllib.error.HTTPError(newurl, code, f"redirect to {scheme}:// refused",
                                         headers, fp)
        follow = super().redirect_request(req, fp, code, msg, headers, newurl)
        if follow is not None and urllib.parse.urlsplit(newurl).netloc != \
                urllib.parse.urlsplit(req.full_url).netloc:
            follow.remove_header("Authorization")  # credentials stay with the host given
        return follow


def _http_hint(code: int) -> str:
    if code in (401, 403):
        return "The server refuses the request: the URL may need credentials or a token."
    if code == 404:
        return "Nothing is published at that address: check the path."
    if code >= 500:
        return "The server failed; try again later or ask its owners."
    return "Check the URL and what the server expects."


def _parse(body: bytes, shown: str) -> Any:
    """The CSV as a DataFrame, its time columns as UTC datetimes."""
    import pandas as pd

    if not body.strip():
        raise KeplerError(f"{shown} returned an empty body, not a CSV.",
                          hint="Check that the export has rows and a header line.")
    try:
        frame = pd.read_csv(io.BytesIO(body), encoding="utf-8")
    except (ValueError, UnicodeDecodeError) as exc:  # ParserError, EmptyDataError are ValueErrors
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise KeplerError(f"{shown} did not return a readable CSV: {first}",
                          hint="It must be UTF-8, comma-separated, with one header line.") from exc
    for column in TIME_COLUMNS:
        if column in frame.columns:
            frame[column] = _times(frame[column], column, shown)
    return frame


def _times(values: Any, column: str, shown: str) -> Any:
    import pandas as pd

    try:
        if pd.api.types.is_numeric_dtype(values):  # epoch seconds, as Splunk exports _time
            return pd.to_datetime(values, unit="s", utc=True)
        return pd.to_datetime(values, utc=True, format="ISO8601")
    except (ValueError, TypeError, OverflowError) as exc:
        raise KeplerError(
            f"Column {column!r} of {shown} is not a time column: {exc}",
            hint="Give ISO 8601 times (2026-01-05T10:00:00Z) or epoch seconds, or rename "
            "the column.") from exc


def _between(frame: Any, earliest: Any, latest: Any, shown: str) -> Any:
    """Rows with earliest <= time < latest, on the first time column."""
    if earliest is None and latest is None:
        return frame
    column = next((c for c in TIME_COLUMNS if c in frame.columns), None)
    if column is None:
        raise KeplerError(
            f"earliest/latest filter on a time column, and {shown} has none "
            f"({', '.join(TIME_COLUMNS)}).",
            hint="Leave out earliest/latest, or serve the CSV with a _time column.")
    keep = frame[column].notna()
    if earliest is not None:
        keep &= frame[column] >= _instant(earliest, "earliest")
    if latest is not None:
        keep &= frame[column] < _instant(latest, "latest")
    return frame.loc[keep].reset_index(drop=True)


def _instant(value: Any, option: str) -> Any:
    import pandas as pd

    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise KeplerError(
                f"{option}={value!r} is not an ISO 8601 time.",
                hint="Give e.g. 2026-01-05 or 2026-01-05T10:00:00Z; relative times such as "
                "-7d are Splunk's, not this connector's.") from None
    if not isinstance(moment, datetime):
        raise KeplerError(f"{option}={value!r} is not a time.",
                          hint="Give an ISO 8601 string or a datetime.")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return pd.Timestamp(moment).tz_convert("UTC")
