"""From a model's artifact folder to an image in Azure Container Registry.

1. kepler-serve's build context (Dockerfile, model, lock, entrypoint), imported lazily;
2. packed as ``.tar.gz`` and uploaded to the URL ACR hands out
   (``POST …/registries/{r}/listBuildSourceUploadUrl``, then a block-blob PUT);
3. an ACR build task (``POST …/scheduleRun`` with a ``DockerBuildRequest``) builds and pushes
   ``<registry>.azurecr.io/<model>:v<version>``; the run is polled until it ends.

With ``azure.builder: docker`` (or ``auto`` where ``docker info`` answers) the local Docker
engine builds and pushes instead (``az acr login`` must have been run). ``-o image=…`` skips all
of this: the image is taken as pushed already.
"""

from __future__ import annotations

import datetime as _dt
import re
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

from kepler.api import DeploymentError, docker_answers, run_docker

from .clients import Azure
from .errors import AzureBuildError, AzureConfigError


def slug(value: str, limit: int = 63) -> str:
    """Lowercase letters, digits and '-' (image repositories, revision suffixes)."""
    text = re.sub(r"[^a-z0-9]+", "-", str(value).lower()).strip("-")
    return text[:limit].rstrip("-") or "model"


def image_tag(manifest: Any) -> str:
    return f"v{manifest.version}" if manifest.version is not None else \
        "unsaved-" + _dt.datetime.now(_dt.UTC).strftime("%Y%m%d%H%M%S")


def image_for(azure: Azure, manifest: Any) -> str:
    """Where the model's image goes: ``<registry>.azurecr.io/<model>:v<version>``."""
    if not azure.settings.registry:
        raise AzureConfigError("azure.registry is not set: there is no registry to build into.",
                               hint="Set azure.registry (an ACR name; 'kepler azure provision' "
                               "creates it), or pass an image pushed already: -o image=…")
    return f"{azure.settings.login_server()}/{slug(manifest.name)}:{image_tag(manifest)}"


def write_context(model: Path, out: Path, options: dict[str, Any] | None = None) -> Path:
    """kepler-serve's container build context (the optional extra ``kepler-azure[serve]``)."""
    try:
        from kepler_serve import build_context
    except ImportError as exc:
        raise DeploymentError(
            "Building an image needs kepler-serve's build context, and kepler-serve is not "
            "installed.",
            hint="pip install 'kepler-azure[serve]', or pass an image pushed already "
            "(-o image=REGISTRY.azurecr.io/NAME:TAG).") from exc
    # kepler_serve resolves build_context lazily (module __getattr__), so it types as object
    written: Path = build_context(model, out, options or {})  # type: ignore[operator]
    return written


def pack(context: Path, archive: Path) -> Path:
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(context.rglob("*")):
            tar.add(path, arcname=str(path.relative_to(context)), recursive=False)
    return archive


def build_image(azure: Azure, model: Path, manifest: Any, *,
                options: dict[str, Any] | None = None) -> str:
    """Build and push the model's image (ACR Tasks, or Docker: ``azure.builder``)."""
    image = image_for(azure, manifest)
    builder = azure.settings.builder
    if builder == "docker" or (builder == "auto" and docker_answers()):
        return _docker_build(azure, model, image, options)
    return _acr_build(azure, model, image, options)


def _registry_path(azure: Azure) -> str:
    return azure.resource_id("Microsoft.ContainerRegistry/registries",
                             str(azure.settings.registry))


def _acr_build(azure: Azure, model: Path, image: str, options: dict[str, Any] | None) -> str:
    registry = _registry_path(azure)
    repository = image.split("/", 1)[1]
    request = {"type": "DockerBuildRequest", "imageNames": [repository], "isPushEnabled": True,
               "sourceLocation": "<relativePath from listBuildSourceUploadUrl>",
               "dockerFilePath": "Dockerfile", "platform": {"os": "Linux",
                                                            "architecture": "amd64"},
               "timeout": int(azure.settings.build_timeout)}
    if azure.dry_run:
        azure.send("acr", "POST", azure.url(f"{registry}/listBuildSourceUploadUrl", "acr-tasks"),
                   None, lambda: None, doing="", note="then PUT the build context (.tar.gz, "
                   "written by kepler-serve at deploy time) to the uploadUrl")
        azure.send("acr", "POST", azure.url(f"{registry}/scheduleRun", "acr-tasks"), request,
                   lambda: None, doing="", note=f"then GET …/runs/{{runId}} until done; "
                   f"pushes {image}")
        return image
    doing = f"uploading the build context to {azure.settings.registry}"
    upload_url = azure.url(f"{registry}/listBuildSourceUploadUrl", "acr-tasks")
    upload = azure.send("acr", "POST", upload_url, None, lambda: azure.raw(
        "POST", f"{registry}/listBuildSourceUploadUrl", "acr-tasks"), doing=doing)
    with tempfile.TemporaryDirectory(prefix="kepler-azure-") as tmp:
        context = write_context(model, Path(tmp) / "context", options)
        archive = pack(context, Path(tmp) / "context.tar.gz")
        _upload(upload["uploadUrl"], archive)
    request["sourceLocation"] = upload["relativePath"]
    run = azure.send("acr", "POST", azure.url(f"{registry}/scheduleRun", "acr-tasks"), request,
                     lambda: azure.raw(
                         "POST", f"{registry}/scheduleRun", "acr-tasks", request),
                     doing=f"starting the ACR build of {image}")
    _wait_run(azure, registry, run["properties"]["runId"], image)
    return image


def _upload(url: str, archive: Path) -> None:
    """PUT the archive to the SAS URL ACR handed out (a block blob)."""
    import requests

    try:
        response = requests.put(url, data=archive.read_bytes(), timeout=600,
                                headers={"x-ms-blob-type": "BlockBlob",
                                         "Content-Type": "application/gzip"})
    except requests.RequestException as exc:
        raise AzureBuildError(f"Uploading the build context failed: {exc}",
                              hint="Check the network; rerun.") from exc
    if response.status_code >= 300:
        raise AzureBuildError(f"Uploading the build context failed ({response.status_code}): "
                              f"{response.text[:200]}", hint="Rerun; the upload URL expires "
                              "after an hour.")


def _wait_run(azure: Azure, registry: str, run_id: str, image: str) -> None:
    """Poll the ACR run until it ends (``azure.build_timeout``)."""
    import logging

    log = logging.getLogger(__name__)
    deadline = time.monotonic() + azure.settings.build_timeout
    while True:
        run = azure.send("acr", "GET", azure.url(f"{registry}/runs/{run_id}", "acr-tasks"), None,
                         lambda: azure.raw(
                             "GET", f"{registry}/runs/{run_id}", "acr-tasks"),
                         doing=f"reading ACR run {run_id}")
        status = run["properties"]["status"]
        if status == "Succeeded":
            return
        if status in ("Failed", "Canceled", "Error", "Timeout"):
            detail = run["properties"].get("runErrorMessage") or status
            raise AzureBuildError(f"The ACR build of {image} ended {status}: {detail}",
                                  hint=f"az acr task logs --registry {azure.settings.registry} "
                                  f"--run-id {run_id} shows the build log.")
        if time.monotonic() >= deadline:
            raise AzureBuildError(f"The ACR build of {image} did not finish within "
                                  f"{azure.settings.build_timeout:.0f} s (run {run_id}).",
                                  hint="Raise azure.build_timeout.")
        log.info("ACR run %s: %s", run_id, status)
        time.sleep(azure.settings.poll_interval)


def _docker_build(azure: Azure, model: Path, image: str, options: dict[str, Any] | None
                  ) -> str:
    if azure.dry_run:
        for command in (f"docker build -t {image} <kepler-serve's build context>",
                        f"docker push {image}"):
            azure.send("docker", "RUN", command, None, lambda: None, doing="",
                       note="local Docker engine (after az acr login)")
        return image
    with tempfile.TemporaryDirectory(prefix="kepler-azure-") as tmp:
        context = write_context(model, Path(tmp) / "context", options)
        _docker(["build", "-t", image, str(context)], doing=f"building {image}")
    _docker(["push", image], doing=f"pushing {image}")
    return image


def _docker(args: list[str], *, doing: str) -> None:
    run_docker(args, doing=doing, error=AzureBuildError, setting="azure.builder",
               missing_hint="Install Docker, or set azure.builder: acr.",
               failed_hint="'az acr login --name REGISTRY' lets Docker push; or set "
               "azure.builder: acr.")
