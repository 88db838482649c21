"""Google clients built from the ``gcp`` section: credentials, endpoints, waiting, dry runs.

Every client uses the REST transport (``transport="rest"``), so a configured endpoint may be a
Private Service Connect address or a local fake (:mod:`kepler_gcp.testing`). Calls go through
:meth:`Gcp.send`, which in a dry run records the request (method, URL, body) instead of sending
it: ``kepler deploy MODEL --target cloud-run --dry-run`` and ``kepler gcp provision --dry-run``
print that list.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kepler.api import PlannedRequest

from .config import GcpSettings
from .errors import GcpConfigError, GcpCredentialsError, translate

log = logging.getLogger(__name__)

SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
DEFAULT_ENDPOINTS = {
    "run": "https://run.googleapis.com",
    "build": "https://cloudbuild.googleapis.com",
    "storage": "https://storage.googleapis.com",
    "artifact": "https://artifactregistry.googleapis.com",
    "secrets": "https://secretmanager.googleapis.com",
    "iam": "https://iam.googleapis.com",
    "resourcemanager": "https://cloudresourcemanager.googleapis.com",
    "logging": "https://logging.googleapis.com",
}


def credentials(settings: GcpSettings) -> Any:
    """The credentials the clients use: anonymous (fakes), a service-account key, or ADC."""
    if settings.anonymous:
        from google.auth.credentials import AnonymousCredentials

        return AnonymousCredentials()
    try:
        if settings.credentials is not None:
            from google.oauth2 import service_account

            value = settings.credentials.get_secret_value().strip()
            if value.startswith("{"):
                info = json.loads(value)
                return service_account.Credentials.from_service_account_info(info, scopes=SCOPES)
            return service_account.Credentials.from_service_account_file(
                str(Path(value).expanduser()), scopes=SCOPES)
        import google.auth

        found, _ = google.auth.default(scopes=SCOPES)
        return found
    except (ValueError, OSError) as exc:
        raise GcpCredentialsError(
            f"gcp.credentials is not a usable service-account key: {exc}",
            hint="Store the key's JSON with 'kepler secrets set gcp-key' and write "
            "gcp.credentials: ${secret:gcp-key}, or a path to the key file.") from None
    except Exception as exc:  # google.auth.exceptions.DefaultCredentialsError and the like
        raise translate(exc, "looking for Application Default Credentials") from None


@dataclass
class Gcp:
    """Lazily built Google clients for one ``gcp`` section, and the dry-run recorder."""

    settings: GcpSettings
    #: When not None, requests are recorded here and not sent.
    plan: list[PlannedRequest] | None = None
    _cache: dict[str, Any] = field(default_factory=dict)

    # --- basics -------------------------------------------------------------------------------

    @property
    def project(self) -> str:
        if not self.settings.project:
            raise GcpConfigError(
                "gcp.project is not set.",
                hint="Set it in kepler.yml (gcp: {project: MY-PROJECT}, per environment under "
                "environments.<env>.gcp) or export KEPLER_GCP__PROJECT=MY-PROJECT.")
        return self.settings.project

    @property
    def location(self) -> str:
        return f"projects/{self.project}/locations/{self.settings.region}"

    @property
    def dry_run(self) -> bool:
        return self.plan is not None

    def endpoint(self, api: str) -> str:
        configured = getattr(self.settings, f"{api}_endpoint", None)
        return str(configured or DEFAULT_ENDPOINTS[api]).rstrip("/")

    def _options(self, api: str) -> Any:
        from google.api_core.client_options import ClientOptions

        configured = getattr(self.settings, f"{api}_endpoint", None)
        return ClientOptions(api_endpoint=configured.rstrip("/")) if configured else None

    @property
    def credentials(self) -> Any:
        if "credentials" not in self._cache:
            self._cache["credentials"] = credentials(self.settings)
        return self._cache["credentials"]

    def _client(self, key: str, build: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    # --- clients ------------------------------------------------------------------------------

    def services(self) -> Any:
        from google.cloud import run_v2

        return self._client("services", lambda: run_v2.ServicesClient(
            credentials=self.credentials, transport="rest", client_options=self._options("run")))

    def revisions(self) -> Any:
        from google.cloud import run_v2

        return self._client("revisions", lambda: run_v2.RevisionsClient(
            credentials=self.credentials, transport="rest", client_options=self._options("run")))

    def builds(self) -> Any:
        from google.cloud.devtools import cloudbuild_v1

        return self._client("builds", lambda: cloudbuild_v1.CloudBuildClient(
            credentials=self.credentials, transport="rest",
            client_options=self._options("build")))

    def storage(self) -> Any:
        from google.cloud import storage

        configured = self.settings.storage_endpoint
        return self._client("storage", lambda: storage.Client(
            project=self.project, credentials=self.credentials,
            client_options={"api_endpoint": configured.rstrip("/")} if configured else None))

    def artifacts(self) -> Any:
        from google.cloud import artifactregistry_v1

        return self._client("artifacts", lambda: artifactregistry_v1.ArtifactRegistryClient(
            credentials=self.credentials, transport="rest",
            client_options=self._options("artifact")))

    def secrets(self) -> Any:
        from google.cloud import secretmanager_v1

        return self._client("secrets", lambda: secretmanager_v1.SecretManagerServiceClient(
            credentials=self.credentials, transport="rest",
            client_options=self._options("secrets")))

    def projects(self) -> Any:
        from google.cloud import resourcemanager_v3

        return self._client("projects", lambda: resourcemanager_v3.ProjectsClient(
            credentials=self.credentials, transport="rest",
            client_options=self._options("resourcemanager")))

    def session(self) -> Any:
        """An authorized ``requests`` session, for the APIs called without a client library
        (IAM service accounts, Cloud Logging)."""
        from google.auth.transport.requests import AuthorizedSession

        return self._client("session", lambda: AuthorizedSession(self.credentials))

    def http(self, method: str, url: str, body: Any = None) -> Any:
        """A JSON request on :meth:`session`; a Google error status raises its api_core
        exception (``NotFound``, ``PermissionDenied``...)."""
        from google.api_core import exceptions as gexc

        response = self.session().request(method, url, json=body, timeout=60)
        if response.status_code >= 400:
            raise gexc.from_http_response(response)
        return response.json() if response.content else {}

    # --- sending ------------------------------------------------------------------------------

    def send(self, api: str, method: str, url: str, body: Any, call: Callable[[], Any], *,
             doing: str, note: str = "") -> Any:
        """Send one request (``call``), or record it in a dry run and return None. Google
        errors are translated into Kepler errors naming ``doing``."""
        if self.plan is not None:
            self.plan.append(PlannedRequest(api, method, url, body, note))
            return None
        log.debug("%s %s", method, url)
        try:
            return call()
        except Exception as exc:
            if _is_google_error(exc):
                raise translate(exc, doing) from exc
            raise

    def polling(self, timeout: float) -> Any:
        """The polling policy of long-running operations (``gcp.poll_interval``)."""
        from google.api_core import retry
        from google.api_core.future.polling import POLLING_PREDICATE

        interval = self.settings.poll_interval
        return retry.Retry(predicate=POLLING_PREDICATE, initial=interval,
                           maximum=max(interval, min(interval * 8, 20.0)), multiplier=1.5,
                           timeout=timeout)


def _is_google_error(exc: BaseException) -> bool:
    module = type(exc).__module__
    return module.startswith(("google.api_core", "google.auth"))


def proto_json(message: Any) -> Any:
    """A proto-plus (or protobuf) message as the proto-JSON dict the REST API receives."""
    from google.protobuf import json_format

    pb = type(message).pb(message) if hasattr(type(message), "pb") else message
    return json_format.MessageToDict(pb)
