"""The test wiring of :mod:`kepler_azure.testing`: a fake credential, and bearer tokens allowed
over plain http (the fake listens on ``http://127.0.0.1``).

Only the ``azure_fake`` fixture installs this (``kepler_azure.clients.TEST_WIRING``); the product
path keeps the SDKs' https-only rule.
"""

from __future__ import annotations

import time
from typing import Any


class FakeCredential:
    """A ``TokenCredential`` that hands out a fixed token (and counts the requests for one)."""

    def __init__(self) -> None:
        self.requests = 0

    def get_token(self, *scopes: str, **_: Any) -> Any:
        from azure.core.credentials import AccessToken

        self.requests += 1
        return AccessToken("fake-arm-token", int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        from azure.core.credentials import AccessTokenInfo

        self.requests += 1
        return AccessTokenInfo("fake-arm-token", int(time.time()) + 3600)

    def close(self) -> None:
        return None


def http_bearer_policy(credential: Any, scopes: list[str]) -> Any:
    """ARM's challenge-aware bearer policy with ``enforce_https=False`` set on each request
    (azure-core's documented per-request switch), for the fake's http endpoint."""
    from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy

    class HttpAllowed(ARMChallengeAuthenticationPolicy):
        def on_request(self, request: Any) -> None:
            request.context.options["enforce_https"] = False
            super().on_request(request)

    return HttpAllowed(credential, *scopes)


def wiring() -> dict[str, Any]:
    """What ``clients.TEST_WIRING`` holds under the fixture."""
    credential = FakeCredential()
    scopes = ["https://management.azure.com/.default"]
    return {"credential": credential,
            "client_kwargs": {"authentication_policy": http_bearer_policy(credential, scopes)}}
