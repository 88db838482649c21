"""Azure Resource Manager failures as Kepler errors, each with a hint.

:func:`translate` maps an ``azure.core`` exception (``HttpResponseError`` with ARM's error code,
``ClientAuthenticationError`` from the credential chain) to a class below that says what to do;
the CLI prints message and hint and exits 7 (a remote service refused), 3 for configuration.
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


class AzureError(ServiceError):
    """Azure Resource Manager refused or failed a request."""


class AzureConfigError(ConfigError):
    """The ``azure`` section lacks something a command needs (the subscription, most often)."""


class AzureCredentialsError(AzureError):
    """No usable Azure credentials (the DefaultAzureCredential chain found none, or 401)."""


class AzurePermissionError(AzureError):
    """The identity lacks a role assignment (403 AuthorizationFailed)."""


class AzureQuotaError(AzureError):
    """A quota or rate limit was hit (429, QuotaExceeded...)."""


class AzureConflictError(AzureError, DeploymentExistsError):
    """The resource exists already, or another operation on it is in progress (409)."""


class AzureNotFoundError(AzureError):
    """A resource the deployment needs is missing (404: run ``kepler azure provision``)."""


class AzureBuildError(AzureError, DeploymentError):
    """The ACR build task (or Docker) did not produce the image."""


class AzureTimeoutError(AzureError, DeploymentError):
    """A long-running operation did not finish in time."""


class RevisionNotReadyError(AzureError, DeploymentError):
    """A new revision (or container group) did not provision; the reason is in the message."""

    def __init__(self, message: str, hint: str | None = None, *, revision: str | None = None,
                 reason: str | None = None) -> None:
        super().__init__(message, hint)
        self.revision = revision
        self.reason = reason


class AppNotFoundError(DeploymentNotFoundError):
    """No container app or container group backs the deployment."""


PERMISSION_HINT = ("Assign the deploying identity the roles it needs on the resource group "
                   "(Contributor, or Container Apps Contributor + AcrPush; User Access "
                   "Administrator for provisioning role assignments); 'kepler config validate' "
                   "names what is missing.")
CREDENTIALS_HINT = ("Run 'az login', or set AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET "
                    "(a service principal), or run where a managed identity is available "
                    "(DefaultAzureCredential tries each).")
_QUOTA_CODES = ("QuotaExceeded", "OperationNotAllowed", "MaxNumberOfRegionalEnvironmentsInSubEx"
                "ceeded", "ContainerGroupQuotaReached", "TooManyRequests")


def arm_code(exc: Any) -> str:
    """ARM's error code of ``exc`` (``AuthorizationFailed``, ``Conflict``...), or ''."""
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None) if error is not None else None
    return str(code or "")


def arm_message(exc: Any) -> str:
    error = getattr(exc, "error", None)
    message = getattr(error, "message", None) if error is not None else None
    return str(message or getattr(exc, "message", None) or exc).strip()


def translate(exc: BaseException, doing: str) -> Exception:
    """The Kepler error for ``exc`` raised while ``doing`` ("creating container app x")."""
    from azure.core import exceptions as aexc

    if isinstance(exc, aexc.ClientAuthenticationError) and \
            getattr(exc, "status_code", None) in (None, 401):
        return AzureCredentialsError(f"No usable Azure credentials while {doing}: "
                                     f"{arm_message(exc)}", hint=CREDENTIALS_HINT)
    if isinstance(exc, aexc.ServiceRequestError):
        return AzureError(f"Azure Resource Manager did not answer while {doing}: {exc}",
                          hint="Check the network and azure.arm_endpoint.")
    status = getattr(exc, "status_code", None)
    code, message = arm_code(exc), arm_message(exc)
    label = f"{code}: " if code else ""
    if status == 403 or code in ("AuthorizationFailed", "LinkedAuthorizationFailed"):
        return AzurePermissionError(f"Permission denied while {doing}: {label}{message}",
                                    hint=PERMISSION_HINT)
    if status == 429 or code in _QUOTA_CODES:
        return AzureQuotaError(f"Quota or rate limit hit while {doing}: {label}{message}",
                               hint="Wait and retry, lower azure.max_replicas, or request more "
                               "quota in the portal (Subscriptions > Usage + quotas).")
    if status == 409:
        return AzureConflictError(f"Conflict while {doing}: {label}{message}",
                                  hint="Update it instead (kepler deploy update NAME MODEL), "
                                  "wait for the operation in progress, or pick another name.")
    if status == 404:
        return AzureNotFoundError(f"Not found while {doing}: {label}{message}",
                                  hint="Check azure.subscription and azure.resource_group, and "
                                  "run 'kepler azure provision' to create what deployments "
                                  "need.")
    if isinstance(exc, aexc.HttpResponseError):
        return AzureError(f"Azure failed while {doing}: {label}{message}",
                          hint="Rerun with --debug for the full response.")
    return AzureError(f"Unexpected failure while {doing}: {type(exc).__name__}: {exc}",
                      hint="Rerun with --debug for the traceback.")
