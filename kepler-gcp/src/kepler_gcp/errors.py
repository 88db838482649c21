"""Google API failures as Kepler errors, each with a hint.

:func:`translate` maps a ``google.api_core`` exception (or a ``google.auth`` one) to the class
below that says what to do; the CLI prints message and hint and exits 7 (a remote service
refused), 3 for missing configuration.
"""

from __future__ import annotations

from typing import Any

from kepler.api import (
    ConfigError,
    DeploymentError,
    DeploymentExistsError,
    DeploymentNotFoundError,
    ServiceError,
)


class GcpError(ServiceError):
    """A Google Cloud API refused or failed a request."""


class GcpConfigError(ConfigError):
    """The ``gcp`` section lacks something a command needs (the project, most often)."""


class GcpCredentialsError(GcpError):
    """No usable Google credentials (ADC missing, key invalid, or the API says 401)."""


class GcpPermissionError(GcpError):
    """The credentials lack an IAM permission (HTTP 403)."""


class GcpQuotaError(GcpError):
    """A quota or rate limit was hit (HTTP 429)."""


class GcpAlreadyExistsError(GcpError, DeploymentExistsError):
    """The resource exists already (HTTP 409)."""


class GcpImageNotFoundError(GcpError, DeploymentError):
    """The container image is not in the registry."""


class GcpBuildError(GcpError, DeploymentError):
    """Cloud Build did not produce the image."""


class RevisionNotReadyError(GcpError, DeploymentError):
    """A new revision did not become ready (the container's reason is in the message)."""

    def __init__(self, message: str, hint: str | None = None, *, revision: str | None = None,
                 reason: str | None = None) -> None:
        super().__init__(message, hint)
        self.revision = revision
        self.reason = reason


class ServiceNotFoundError(DeploymentNotFoundError):
    """No Cloud Run service backs the deployment."""


PERMISSION_HINT = ("Grant the deploying account the roles it needs (Cloud Run Admin, Cloud Build "
                   "Editor, Artifact Registry Writer, Storage Object Admin, Service Account "
                   "User, Secret Manager Admin for provisioning); 'kepler config validate' "
                   "names every missing permission.")
CREDENTIALS_HINT = ("Run 'gcloud auth application-default login', or store a service-account "
                    "key with 'kepler secrets set gcp-key' and write "
                    "gcp.credentials: ${secret:gcp-key}.")


def _reason(exc: Any) -> str:
    message = getattr(exc, "message", None) or str(exc)
    return str(message).strip()


def translate(exc: BaseException, doing: str) -> Exception:
    """The Kepler error for ``exc`` raised while ``doing`` ("creating service x")."""
    from google.api_core import exceptions as gexc

    try:
        from google.auth import exceptions as auth_exc
    except ImportError:  # pragma: no cover - google-auth comes with api-core
        auth_exc = None  # type: ignore[assignment]
    if auth_exc is not None and isinstance(exc, auth_exc.GoogleAuthError):
        return GcpCredentialsError(f"No usable Google credentials while {doing}: {exc}",
                                   hint=CREDENTIALS_HINT)
    reason = _reason(exc)
    if isinstance(exc, gexc.Unauthenticated):
        return GcpCredentialsError(f"Google refused the credentials while {doing}: {reason}",
                                   hint=CREDENTIALS_HINT)
    if isinstance(exc, gexc.PermissionDenied | gexc.Forbidden):
        return GcpPermissionError(f"Permission denied while {doing}: {reason}",
                                  hint=PERMISSION_HINT)
    if isinstance(exc, gexc.TooManyRequests | gexc.ResourceExhausted):
        return GcpQuotaError(f"Quota exceeded while {doing}: {reason}",
                             hint="Wait and retry, lower gcp.max_instances, or ask for more "
                             "quota: https://console.cloud.google.com/iam-admin/quotas")
    if isinstance(exc, gexc.Conflict | gexc.AlreadyExists):
        return GcpAlreadyExistsError(f"Already exists ({doing}): {reason}",
                                     hint="Update it instead (kepler deploy update NAME MODEL), "
                                     "or pick another name.")
    if isinstance(exc, gexc.NotFound):
        return GcpError(f"Not found while {doing}: {reason}",
                        hint="Check gcp.project and gcp.region, and run 'kepler gcp provision' "
                        "to create the repository, account and secrets.")
    if isinstance(exc, gexc.GoogleAPICallError):
        return GcpError(f"Google Cloud failed while {doing}: {reason}",
                        hint="Retry; if it persists, rerun with --debug and check the Google "
                        "Cloud status page.")
    if isinstance(exc, gexc.GoogleAPIError):
        return GcpError(f"Google Cloud failed while {doing}: {reason}",
                        hint="Rerun with --debug for details.")
    return GcpError(f"Unexpected failure while {doing}: {type(exc).__name__}: {exc}",
                    hint="Rerun with --debug for the traceback.")
