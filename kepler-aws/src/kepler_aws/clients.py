"""boto3 clients built from the ``aws`` section: profile, region, endpoints, retries, dry runs.

Every client uses botocore's *standard* retry mode (``aws.max_attempts``), so throttling and
transient errors are retried with backoff before a Kepler error says so. Endpoints are passed
only when configured (``aws.endpoint_url``, ``aws.endpoints``): otherwise boto3 resolves them,
which keeps its own ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_<SERVICE>`` variables working.

Calls go through :meth:`Aws.call`, which in a dry run records the request (service, operation,
parameters) instead of sending it and returns None: ``kepler deploy MODEL --target aws
--dry-run`` and ``kepler aws provision --dry-run`` print that list. A dry run sends nothing,
not even reads, so what would be read is written as ``<placeholders>``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .config import AwsSettings
from .errors import REGION_HINT, AwsConfigError, translate

log = logging.getLogger(__name__)


def operation_name(method: str) -> str:
    """``create_service`` -> ``CreateService`` (the API's name of a boto3 method)."""
    return "".join(part.capitalize() for part in method.split("_"))


@dataclass
class PlannedRequest:
    """One request a dry run would send."""

    service: str
    operation: str
    params: dict[str, Any]
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"service": self.service, "operation": self.operation,
                               "params": self.params}
        if self.note:
            out["note"] = self.note
        return out

    def render(self) -> str:
        head = f"{self.service} {self.operation}" + (f"    # {self.note}" if self.note else "")
        if not self.params:
            return head
        return head + "\n" + json.dumps(self.params, indent=2, sort_keys=True, default=str)


@dataclass
class Aws:
    """Lazily built boto3 clients for one ``aws`` section, and the dry-run recorder."""

    settings: AwsSettings
    env: str = "dev"
    #: When not None, requests are recorded here and not sent.
    plan: list[PlannedRequest] | None = None
    _cache: dict[str, Any] = field(default_factory=dict)

    @property
    def dry_run(self) -> bool:
        return self.plan is not None

    def session(self) -> Any:
        if "session" not in self._cache:
            import boto3

            try:
                self._cache["session"] = boto3.Session(profile_name=self.settings.profile,
                                                       region_name=self.settings.region)
            except Exception as exc:  # ProfileNotFound
                raise translate(exc, "opening the AWS profile") from None
        return self._cache["session"]

    @property
    def region(self) -> str:
        region = self.settings.region or self.session().region_name
        if not region:
            raise AwsConfigError("aws.region is not set and boto3 has no default region.",
                                 hint=REGION_HINT)
        return str(region)

    def client(self, service: str) -> Any:
        """The boto3 client of ``service`` (cached): standard retries, configured endpoint."""
        key = f"client:{service}"
        if key not in self._cache:
            from botocore.config import Config

            config = Config(retries={"mode": "standard",
                                     "total_max_attempts": self.settings.max_attempts},
                            user_agent_extra="kepler-aws")
            endpoint = self.settings.endpoints.get(service) or self.settings.endpoint_url
            kwargs: dict[str, Any] = {"region_name": self.region, "config": config}
            if endpoint:
                kwargs["endpoint_url"] = endpoint
            self._cache[key] = self.session().client(service, **kwargs)
        return self._cache[key]

    def call(self, service: str, method: str, /, *, doing: str, note: str = "",
             guard: Callable[[BaseException], Exception | None] | None = None,
             **params: Any) -> Any:
        """Send ``service.method(**params)``, or record it in a dry run and return None. AWS
        errors become Kepler errors naming ``doing``; ``guard`` may map one first (a missing
        service to the deployment's own not-found error)."""
        if self.plan is not None:
            self.plan.append(PlannedRequest(service, operation_name(method), params, note))
            return None
        log.debug("%s %s", service, method)
        try:
            return getattr(self.client(service), method)(**params)
        except Exception as exc:
            if not _is_aws_error(exc):
                raise
            mapped = guard(exc) if guard is not None else None
            raise (mapped or translate(exc, doing)) from exc

    def account(self) -> str:
        """The account ID of the credentials in use (STS; a placeholder in a dry run)."""
        if self.dry_run:
            return "<account>"
        if "account" not in self._cache:
            answer = self.call("sts", "get_caller_identity", doing="reading the caller identity")
            self._cache["account"] = str(answer["Account"])
        return str(self._cache["account"])

    def registry(self) -> str:
        return f"{self.account()}.dkr.ecr.{self.region}.amazonaws.com"

    def image_base(self) -> str:
        """``ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY`` (images are ``<base>:<tag>``)."""
        return f"{self.registry()}/{self.settings.repository}"

    def bucket(self) -> str:
        return self.settings.staging_bucket or f"kepler-builds-{self.account()}-{self.region}"

    def tags(self, **extra: str) -> dict[str, str]:
        """The tags of every resource: the section's, ``managed-by`` and the environment."""
        return {**self.settings.tags, "managed-by": "kepler", "kepler-env": self.env, **extra}


def tag_list(tags: dict[str, str], key: str = "key", value: str = "value") -> list[dict[str, str]]:
    """Tags as AWS lists them (ECS: key/value; ELB, ECR, IAM: Key/Value)."""
    return [{key: k, value: str(v)} for k, v in sorted(tags.items())]


def tag_dict(tags: list[dict[str, str]] | None) -> dict[str, str]:
    out = {}
    for tag in tags or []:
        out[tag.get("key", tag.get("Key", ""))] = tag.get("value", tag.get("Value", ""))
    return out


def slug(value: str, limit: int = 63) -> str:
    """Lowercase letters, digits and '-' (names, image tags)."""
    text = re.sub(r"[^a-z0-9]+", "-", str(value).lower()).strip("-")
    return text[:limit].rstrip("-") or "model"


def _is_aws_error(exc: BaseException) -> bool:
    from botocore.exceptions import BotoCoreError, ClientError
    from botocore.parsers import ResponseParserError

    # an endpoint answering something that is not AWS's format (a proxy's HTML error page,
    # an emulator lacking the API) fails in the parser, outside botocore's error family
    return isinstance(exc, ClientError | BotoCoreError | ResponseParserError)
