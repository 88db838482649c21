"""Opening a splunk-sdk ``Service`` from Kepler's configuration.

splunk-sdk does the protocol work (login, v1/v2 search paths by server version, namespaces,
re-login on an expired session); Kepler adds TLS verification by default (splunk-sdk's default
is off), a CA bundle, request timeouts, and Splunk's own error texts with hints.
"""

from __future__ import annotations

import ssl
from typing import Any

from kepler.api import ConfigError

from .config import SplunkConnection, SplunkSettings
from .errors import translated


def settings(connection: str | None = None, config: Any = None) -> SplunkConnection:
    """The connection settings in force (``splunk`` section, named connection applied)."""
    if config is None:
        from kepler.api import load_config as load

        config = load()
    section: SplunkSettings = config.section("splunk")
    return section.connection(connection)


def ssl_context(conn: SplunkConnection) -> ssl.SSLContext | None:
    if conn.scheme != "https" or not conn.verify:
        return None
    try:
        return ssl.create_default_context(cafile=conn.ca_file)
    except (FileNotFoundError, ssl.SSLError) as exc:
        raise ConfigError(
            f"splunk.ca_file = {conn.ca_file!r} cannot be used: {exc}",
            hint="Point splunk.ca_file at a PEM file holding the CA certificate(s) of your "
            "Splunk server.",
        ) from None


def open_service(conn: SplunkConnection) -> Any:
    """A logged-in ``splunklib.client.Service`` for ``conn``."""
    from splunklib import binding, client

    kwargs: dict[str, Any] = {
        "host": conn.host,
        "port": conn.port,
        "scheme": conn.scheme,
        "autologin": True,
        "handler": binding.handler(
            timeout=conn.timeout, verify=conn.verify, context=ssl_context(conn)
        ),
    }
    if conn.app:
        kwargs["app"] = conn.app
    if conn.owner:
        kwargs["owner"] = conn.owner
    if conn.token is not None:
        kwargs["splunkToken"] = conn.token.get_secret_value()
    elif conn.username and conn.password is not None:
        kwargs["username"] = conn.username
        kwargs["password"] = conn.password.get_secret_value()
    else:
        raise ConfigError(
            "No Splunk credentials are configured.",
            hint="Set splunk.token (an authentication token) or splunk.username and "
            "splunk.password, e.g. 'kepler secrets set splunk-token' then "
            "'token: ${secret:splunk-token}' under splunk: in kepler.yml, or "
            "KEPLER_SPLUNK__TOKEN in the environment.",
        )
    service = client.Service(**kwargs)
    if conn.token is None:
        with translated(conn, "logging in"):
            service.login()
    return service
