"""AWS failures as Kepler errors, each with a hint.

:func:`translate` maps a botocore exception to the class below that says what to do; the CLI
prints message and hint and exits 7 (a remote service refused), 3 for missing configuration.
Throttling reaches here only after botocore's *standard* retry mode gave up
(``aws.max_attempts`` attempts with backoff), so its hint is about rates and quotas.
"""

from __future__ import annotations

from kepler.api import (
    ConfigError,
    DeploymentError,
    DeploymentExistsError,
    DeploymentNotFoundError,
    ServiceError,
)


class AwsError(ServiceError):
    """An AWS API refused or failed a request."""


class AwsConfigError(ConfigError):
    """The ``aws`` section lacks something a command needs (the region, most often)."""


class AwsCredentialsError(AwsError):
    """No usable AWS credentials (none found, expired, or unknown to AWS)."""


class AwsPermissionError(AwsError):
    """The credentials lack an IAM permission (AccessDenied)."""


class AwsThrottlingError(AwsError):
    """AWS kept throttling after every retry."""


class AwsLimitError(AwsError):
    """An account limit or service quota was reached."""


class AwsAlreadyExistsError(AwsError, DeploymentExistsError):
    """The deployment's ECS service exists already."""


class AwsImageNotFoundError(AwsError, DeploymentError):
    """The container image is not in ECR."""


class AwsBuildError(AwsError, DeploymentError):
    """CodeBuild (or the local Docker engine) did not produce the image."""


class ServiceNotStableError(AwsError, DeploymentError):
    """A new deployment of the ECS service did not become stable; the stopped task's reason is
    in the message, and the circuit breaker rolled the service back."""

    def __init__(self, message: str, hint: str | None = None, *,
                 reason: str | None = None) -> None:
        super().__init__(message, hint)
        self.reason = reason


class ServiceNotFoundError(DeploymentNotFoundError):
    """No ECS service backs the deployment."""


PERMISSION_HINT = ("Give the deploying identity the permissions deploy needs (ECS, ELB, "
                   "Application Auto Scaling, ECR, CodeBuild, S3, CloudWatch Logs, "
                   "iam:PassRole on the task roles); 'kepler config validate' names every "
                   "missing action.")
CREDENTIALS_HINT = ("Configure credentials for boto3: 'aws configure' or 'aws sso login', "
                    "AWS_PROFILE or aws.profile, or the instance/task role where this runs.")
_DENIED = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
           "UnauthorizedException", "AuthorizationError", "Forbidden")
_CREDENTIALS = ("ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId",
                "UnrecognizedClientException", "SignatureDoesNotMatch", "AuthFailure",
                "InvalidAccessKeyId")
_THROTTLED = ("Throttling", "ThrottlingException", "ThrottledException", "RequestLimitExceeded",
              "TooManyRequestsException", "SlowDown", "RequestThrottled",
              "RequestThrottledException")
_LIMITS = ("LimitExceeded", "LimitExceededException", "ServiceQuotaExceededException",
           "TooManyTargetGroups", "TooManyListeners", "TooManyLoadBalancers", "TooManyRules",
           "TooManyTargets", "TooManyTags", "TooManyRegistrationsForTargetId",
           "AccountLimitExceededException", "ResourceLimitExceeded", "VpcLimitExceeded")


def error_code(exc: BaseException) -> str:
    """The AWS error code of a ``ClientError`` ('' for other exceptions)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def _message(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and response.get("Error", {}).get("Message"):
        return str(response["Error"]["Message"])
    return str(exc)


def translate(exc: BaseException, doing: str) -> Exception:
    """The Kepler error for ``exc`` (a botocore exception) raised while ``doing``."""
    from botocore import exceptions as bexc

    if isinstance(exc, bexc.NoCredentialsError | bexc.PartialCredentialsError
                  | bexc.ProfileNotFound | bexc.TokenRetrievalError):
        return AwsCredentialsError(f"No usable AWS credentials while {doing}: {exc}",
                                   hint=CREDENTIALS_HINT)
    if isinstance(exc, bexc.NoRegionError):
        return AwsConfigError(f"No AWS region while {doing}.", hint=REGION_HINT)
    if isinstance(exc, bexc.EndpointConnectionError | bexc.ConnectTimeoutError):
        return AwsError(f"Could not reach AWS while {doing}: {exc}",
                        hint="Check the network, aws.region, and aws.endpoint_url / "
                        "aws.endpoints (or AWS_ENDPOINT_URL) if you set them.")
    code, reason = error_code(exc), _message(exc)
    if code in _DENIED or code.endswith("AccessDenied"):
        return AwsPermissionError(f"Access denied while {doing}: {reason}",
                                  hint=PERMISSION_HINT)
    if code in _CREDENTIALS:
        return AwsCredentialsError(f"AWS refused the credentials while {doing}: {reason}",
                                   hint=CREDENTIALS_HINT)
    if code in _THROTTLED:
        return AwsThrottlingError(
            f"AWS throttled the requests while {doing} ({code}), after every retry: {reason}",
            hint="Wait and retry; raise aws.max_attempts (botocore's standard retry mode backs "
            "off between attempts), or ask AWS Service Quotas for a higher rate.")
    if code in _LIMITS or code.startswith("TooMany"):
        return AwsLimitError(f"An AWS limit was reached while {doing} ({code}): {reason}",
                             hint="Delete what is not used (kepler deploy list; old target "
                             "groups, load balancers), or request a higher quota in the "
                             "Service Quotas console.")
    if isinstance(exc, bexc.ClientError):
        return AwsError(f"AWS refused a request while {doing} ({code}): {reason}",
                        hint="Check the aws section ('kepler config show'); run 'kepler aws "
                        "provision' to create what deployments need.")
    if isinstance(exc, bexc.BotoCoreError) or type(exc).__name__ == "ResponseParserError":
        return AwsError(f"AWS failed while {doing}: {exc}",
                        hint="Rerun with --debug for details.")
    return AwsError(f"Unexpected failure while {doing}: {type(exc).__name__}: {exc}",
                    hint="Rerun with --debug for the traceback.")


REGION_HINT = ("Set aws.region in kepler.yml (per environment under environments.<env>.aws), "
               "export KEPLER_AWS__REGION, or set AWS_REGION / a profile's region.")
