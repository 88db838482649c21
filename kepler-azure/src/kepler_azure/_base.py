"""What both Azure targets share: options, sizing, tags, the image, waiting for ARM.

Options (``-o KEY=VALUE`` on ``kepler deploy``, keywords of ``kp.deploy.to_azure``): any field of
the ``azure`` section (``min_replicas=1``, ``memory=2Gi``, ``ingress=internal``...) for this
deployment only, plus :data:`OPTIONS`.
"""

from __future__ import annotations

import builtins
import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kepler.api import DeploymentError

from .clients import Azure, PlannedRequest
from .config import AzureSettings
from .errors import AppNotFoundError

log = logging.getLogger(__name__)

PORT = 8080
HEC_TOKEN_ENV = "KEPLER_SPLUNK__HEC_TOKEN"  # noqa: S105 - a variable name
#: The model server's worker processes (``serve.workers``), set from the replica's cores.
WORKERS_ENV = "KEPLER_SERVE__WORKERS"
#: Options besides the ``azure`` section's fields.
OPTIONS = ("image", "canary", "port", "build_options")


def workers_for(cpu: float, workers: int | str = "auto") -> int:
    """Model-server workers for a replica of ``cpu`` cores: one per whole core, at least 1,
    unless ``workers`` names a number."""
    return int(workers) if workers != "auto" else max(1, int(cpu))


def workers_env(settings: AzureSettings, cpu: float) -> builtins.list[dict[str, Any]]:
    """The container's ``KEPLER_SERVE__WORKERS`` for ``cpu`` cores, unless ``env_vars`` sets
    it (the user's value is already in the environment then)."""
    if WORKERS_ENV in settings.env_vars:
        return []
    return [{"name": WORKERS_ENV, "value": str(workers_for(cpu, settings.workers))}]


def size(manifest: Any, settings: AzureSettings) -> tuple[float, float]:
    """(CPU cores, memory GiB) per replica: the server and Python (~400 MiB) plus three times
    the artifact, in Container Apps' steps of 0.5 GiB with 1 core per 2 GiB (the pairs the
    consumption plan accepts); ``azure.cpu`` / ``azure.memory`` override it."""
    if settings.memory != "auto":
        memory = float(settings.memory.removesuffix("Gi"))
    elif settings.cpu != "auto":
        memory = 2 * float(settings.cpu)
    else:
        artifact = int(manifest.size_bytes or sum(f.size for f in manifest.files.values()))
        need_mib = 400 + 3 * artifact / 2**20
        memory = min(8.0, max(0.5, math.ceil(need_mib / 512) * 0.5))
    cpu = float(settings.cpu) if settings.cpu != "auto" else memory / 2
    return cpu, memory


def gib(value: float) -> str:
    return f"{value:g}Gi"


class AzureTarget:
    """The base of both deployers: configuration, options, tags, image."""

    target = ""

    def __init__(self, config: Any) -> None:
        self.config = config
        self.env: str = getattr(config, "env", "dev") or "dev"

    @property
    def settings(self) -> AzureSettings:
        settings: AzureSettings = self.config.section("azure")
        return settings

    def _azure(self, settings: AzureSettings | None = None,
               plan: list[PlannedRequest] | None = None) -> Azure:
        return Azure(settings or self.settings, plan=plan)

    def _resolve(self, options: Mapping[str, Any]) -> tuple[AzureSettings, dict[str, Any]]:
        """This call's settings (the section with per-deployment overrides) and options."""
        from kepler.api import target_settings

        settings: AzureSettings
        settings, extra = target_settings(self.settings, options, target=self.target,
                                          section="azure", known=OPTIONS)
        return settings, extra

    def _no_dry_run(self, config: Mapping[str, Any]) -> None:
        if config.get("dry_run") in (True, "true", "1", "yes", 1):
            raise DeploymentError(
                "A dry run is not a deployment: nothing would be recorded.",
                hint=f"kepler deploy MODEL --target {self.target} --dry-run (or "
                f"kp.deploy.plan(model, target='{self.target}')) prints every request without "
                "sending any.")

    def tags(self, name: str, manifest: Any, settings: AzureSettings) -> dict[str, str]:
        """Azure is the record: these tags say what a resource serves (nothing is kept on
        this machine)."""
        version = "unsaved" if manifest.version is None else str(manifest.version)
        return {**settings.tags, "managed-by": "kepler", "kepler-deployment": name,
                "kepler-model": manifest.name, "kepler-version": version,
                "kepler-env": self.env}

    def _image(self, azure: Azure, model: Path, manifest: Any, extra: Mapping[str, Any]) -> str:
        """``image`` (pushed already), else one built from the model now."""
        from .image import build_image

        if extra.get("image"):
            return str(extra["image"])
        return build_image(azure, model, manifest, options=extra.get("build_options"))

    def _not_found(self, azure: Azure, name: str, kind: str) -> AppNotFoundError:
        return AppNotFoundError(
            f"No {kind} deployment named {name!r} ({azure.settings.app_id(name, self.env)} in "
            f"resource group {azure.settings.resource_group}, environment {self.env}).",
            hint=f"'kepler deploy list --target {self.target}' shows the deployments; check "
            "--env and azure.subscription/resource_group.")

    def _guarded(self, azure: Azure, name: str, kind: str, call: Any) -> Any:
        """``call()``, with a 404 reported as the missing deployment."""
        from azure.core.exceptions import ResourceNotFoundError

        def guarded() -> Any:
            try:
                return call()
            except ResourceNotFoundError:
                raise self._not_found(azure, name, kind) from None
        return guarded

    def build(self, model: str, out: Path, config: Mapping[str, Any]) -> Path:
        """kepler-serve's build context: what the ACR build task builds for this target."""
        from .image import write_context

        return write_context(Path(model), out, dict(config))

    @staticmethod
    def _ours(tags: Mapping[str, str] | None, env: str) -> bool:
        tags = tags or {}
        return tags.get("managed-by") == "kepler" and tags.get("kepler-env", env) == env

    @staticmethod
    def _version(tags: Mapping[str, str]) -> str | None:
        version = tags.get("kepler-version")
        return None if version in (None, "unsaved") else version


def vault_url(settings: AzureSettings, secret: str) -> str:
    """The Key Vault secret's URL in the cloud of ``azure.arm_endpoint``."""
    arm = settings.arm()
    suffix = "vault.usgovcloudapi.net" if "usgovcloudapi" in arm else \
        "vault.azure.cn" if "chinacloudapi" in arm else "vault.azure.net"
    return f"https://{settings.key_vault}.{suffix}/secrets/{secret}"


def need_vault(settings: AzureSettings, target: str) -> None:
    if settings.hec_token_secret and not settings.key_vault:
        raise DeploymentError(
            "azure.hec_token_secret is set but azure.key_vault is not: the token is read from "
            "Key Vault, never passed as a value.",
            hint=f"Set azure.key_vault (kepler azure provision creates it) and deploy to "
            f"{target} again.")
