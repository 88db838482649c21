"""From a model's artifact folder to an image in Artifact Registry.

1. kepler-serve's build context (Dockerfile, model, lock, entrypoint), imported lazily;
2. packed as ``.tar.gz`` and uploaded to the staging bucket (``gcp.staging_bucket``);
3. Cloud Build builds it with Docker and pushes
   ``REGION-docker.pkg.dev/PROJECT/REPOSITORY/<model>:v<version>``.

With ``gcp.builder: docker`` (or ``auto`` where ``docker info`` answers) the local Docker engine
builds and pushes instead (2 and 3), logging in to Artifact Registry with the credentials in use.

An image pushed already is checked instead (``image=...``): for Artifact Registry images the
tag must exist, so a typo fails here and not as a revision that never starts.
"""

from __future__ import annotations

import datetime as _dt
import re
import tarfile
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from kepler.api import DeploymentError, docker_answers, run_docker

from .clients import Gcp, proto_json
from .errors import GcpBuildError, GcpImageNotFoundError

DOCKER_BUILDER = "gcr.io/cloud-builders/docker"
_AR_IMAGE = re.compile(r"^(?P<location>[a-z0-9-]+)-docker\.pkg\.dev/(?P<project>[^/]+)/"
                       r"(?P<repository>[^/]+)/(?P<package>[^:@]+)(?::(?P<tag>[^@]+))?"
                       r"(?:@(?P<digest>sha256:[0-9a-f]+))?$")


def slug(value: str, limit: int = 63) -> str:
    """Lowercase letters, digits and '-' (image names, label values)."""
    text = re.sub(r"[^a-z0-9]+", "-", str(value).lower()).strip("-")
    return text[:limit].rstrip("-") or "model"


def image_tag(manifest: Any) -> str:
    return f"v{manifest.version}" if manifest.version is not None else \
        "unsaved-" + _dt.datetime.now(_dt.UTC).strftime("%Y%m%d%H%M%S")


def image_for(gcp: Gcp, manifest: Any) -> str:
    """Where the model's image goes: ``<registry>/<model>:v<version>``."""
    return f"{gcp.settings.image_base()}/{slug(manifest.name)}:{image_tag(manifest)}"


def write_context(model: Path, out: Path, options: dict[str, Any] | None = None) -> Path:
    """kepler-serve's container build context for the model (imported only here, from
    kepler-serve's public API: it is the optional extra ``kepler-gcp[serve]``)."""
    try:
        from kepler_serve import build_context
    except ImportError as exc:
        raise DeploymentError(
            "Building an image needs kepler-serve's build context, and kepler-serve is not "
            "installed.",
            hint="pip install 'kepler-gcp[serve]', or pass an image pushed already "
            "(--image / image=REGION-docker.pkg.dev/PROJECT/REPO/NAME:TAG).") from exc
    return build_context(model, out, options or {})


def pack(context: Path, archive: Path) -> Path:
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(context.rglob("*")):
            tar.add(path, arcname=str(path.relative_to(context)), recursive=False)
    return archive


def builder_for(gcp: Gcp) -> str:
    builder = gcp.settings.builder
    if builder == "auto":
        return "docker" if docker_answers() else "cloud-build"
    return builder


def _docker(args: list[str], *, host: str, doing: str, stdin: str | None = None) -> None:
    run_docker(args, doing=doing, stdin=stdin, error=GcpBuildError, setting="gcp.builder",
               missing_hint="Install Docker, or set gcp.builder: cloud-build.",
               failed_hint=f"'gcloud auth configure-docker {host}' lets Docker push to "
               "Artifact Registry; or set gcp.builder: cloud-build.")


def docker_build(gcp: Gcp, model: Path, manifest: Any, *,
                 options: dict[str, Any] | None = None) -> str:
    """Build the context with the local Docker engine and push the image."""
    image = image_for(gcp, manifest)
    host = gcp.settings.registry_host()
    if gcp.dry_run:
        for command in (f"docker login {host} (an access token of the credentials in use)",
                        f"docker build -t {image} <kepler-serve's build context>",
                        f"docker push {image}"):
            gcp.send("docker", "RUN", command, None, lambda: None, doing="",
                     note="local Docker engine")
        return image
    with tempfile.TemporaryDirectory(prefix="kepler-gcp-") as tmp:
        context = write_context(model, Path(tmp) / "context", options)
        if not gcp.settings.anonymous:
            from google.auth.transport.requests import Request

            credentials = gcp.credentials
            credentials.refresh(Request())
            _docker(["login", "-u", "oauth2accesstoken", "--password-stdin",
                     f"https://{host}"], stdin=str(credentials.token), host=host,
                    doing=f"logging in to {host}")
        _docker(["build", "-t", image, str(context)], host=host, doing=f"building {image}")
    _docker(["push", image], host=host, doing=f"pushing {image}")
    return image


def build_image(gcp: Gcp, model: Path, manifest: Any, *, options: dict[str, Any] | None = None
                ) -> str:
    """Build and push the model's image (Cloud Build, or Docker: ``gcp.builder``); return its
    reference."""
    if builder_for(gcp) == "docker":
        return docker_build(gcp, model, manifest, options=options)
    from google.cloud.devtools import cloudbuild_v1

    image = image_for(gcp, manifest)
    bucket = gcp.settings.bucket()
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%S")
    obj = f"kepler/{slug(manifest.name)}-{image_tag(manifest)}-{stamp}.tar.gz"
    build = cloudbuild_v1.Build(
        source=cloudbuild_v1.Source(storage_source=cloudbuild_v1.StorageSource(
            bucket=bucket, object_=obj)),
        steps=[cloudbuild_v1.BuildStep(name=DOCKER_BUILDER, args=["build", "-t", image, "."])],
        images=[image],
        tags=["kepler", slug(manifest.name)],
        timeout={"seconds": int(gcp.settings.build_timeout)},
    )
    upload_url = (f"{gcp.endpoint('storage')}/upload/storage/v1/b/{bucket}/o"
                  f"?uploadType=multipart&name={quote(obj, safe='')}")
    build_url = f"{gcp.endpoint('build')}/v1/{gcp.location}/builds"
    if gcp.dry_run:
        gcp.send("storage", "POST", upload_url, None, lambda: None, doing="uploading",
                 note="the build context (Dockerfile, model, lock) as .tar.gz, "
                 "written by kepler-serve at deploy time")
        gcp.send("cloudbuild", "POST", build_url, proto_json(build), lambda: None,
                 doing="building", note=f"then polled until done; pushes {image}")
        return image
    with tempfile.TemporaryDirectory(prefix="kepler-gcp-") as tmp:
        context = write_context(model, Path(tmp) / "context", options)
        archive = pack(context, Path(tmp) / "context.tar.gz")

        def upload() -> None:
            blob = gcp.storage().bucket(bucket).blob(obj)
            blob.upload_from_filename(str(archive), content_type="application/gzip")

        gcp.send("storage", "POST", upload_url, None, upload,
                 doing=f"uploading the build context to gs://{bucket}/{obj}")
    operation = gcp.send("cloudbuild", "POST", build_url, proto_json(build),
                         lambda: gcp.builds().create_build(request={
                             "parent": gcp.location, "project_id": gcp.project,
                             "build": build}),
                         doing=f"starting Cloud Build for {image}")
    result = gcp.send("cloudbuild", "GET", "(operation)", None,
                      lambda: _wait_build(gcp, operation), doing=f"building {image}")
    status = cloudbuild_v1.Build.Status(result.status).name if result is not None else "?"
    if status != "SUCCESS":
        raise GcpBuildError(
            f"Cloud Build did not build {image}: {status}"
            + (f": {result.status_detail}" if result and result.status_detail else ""),
            hint=f"The build log: {result.log_url}" if result and result.log_url else
            "Open Cloud Build in the console for the log.")
    return image


def _wait_build(gcp: Gcp, operation: Any) -> Any:
    import concurrent.futures

    from google.api_core import exceptions as gexc

    timeout = gcp.settings.build_timeout
    try:
        return operation.result(timeout=timeout, polling=gcp.polling(timeout))
    except concurrent.futures.TimeoutError:
        raise GcpBuildError(f"Cloud Build did not finish within {timeout:.0f} s.",
                            hint="Raise gcp.build_timeout, or look at the build in the "
                            "console.") from None
    except gexc.GoogleAPICallError as exc:
        metadata = getattr(operation, "metadata", None)
        build = getattr(metadata, "build", None)
        log_url = getattr(build, "log_url", "") if build is not None else ""
        raise GcpBuildError(f"Cloud Build failed: {exc.message}",
                            hint=f"The build log: {log_url}" if log_url else
                            "Open Cloud Build in the console for the log.") from exc


def check_image(gcp: Gcp, image: str) -> None:
    """Refuse an Artifact Registry image whose tag does not exist (other registries are
    trusted as given)."""
    match = _AR_IMAGE.match(image)
    if match is None or match["digest"]:
        return
    tag = match["tag"] or "latest"
    name = (f"projects/{match['project']}/locations/{match['location']}/repositories/"
            f"{match['repository']}/packages/{quote(match['package'], safe='')}/tags/{tag}")
    url = f"{gcp.endpoint('artifact')}/v1/{name}"

    def get() -> Any:
        from google.api_core import exceptions as gexc

        try:
            return gcp.artifacts().get_tag(name=name)
        except gexc.NotFound:
            raise GcpImageNotFoundError(
                f"Image {image} is not in Artifact Registry (no tag {tag!r} of package "
                f"{match['package']!r} in repository {match['repository']!r}).",
                hint="Push it first (docker push ...), fix the tag, or leave --image out to "
                "build the model's image with Cloud Build.") from None

    gcp.send("artifactregistry", "GET", url, None, get, doing=f"looking up image {image}")
