"""From a model's artifact folder to an image in ECR.

1. kepler-serve's build context (Dockerfile, model, lock, entrypoint), imported lazily;
2. zipped and uploaded to the staging bucket (``aws.staging_bucket``);
3. CodeBuild (project ``aws.codebuild_project``, made by ``kepler aws provision``) builds it with
   Docker and pushes ``ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY:<model>-v<version>``: the
   tag carries the model's name and version.

With ``aws.builder: docker`` (or ``auto`` where ``docker info`` answers) the local Docker engine
builds and pushes instead, logging in to ECR with a token from ``ecr:GetAuthorizationToken``.
An image pushed already (``-o image=URI``) is checked instead when it is in ECR, so a typo fails
here and not as tasks that never start.
"""

from __future__ import annotations

import base64
import datetime as _dt
import re
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from kepler.api import DeploymentError, docker_answers, run_docker

from .clients import Aws, slug
from .errors import AwsBuildError, AwsImageNotFoundError, error_code

_ECR_IMAGE = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com"
                        r"(?:\.cn)?/(?P<repository>[^:@]+)(?::(?P<tag>[^@]+))?"
                        r"(?:@(?P<digest>sha256:[0-9a-f]+))?$")
#: CodeBuild's instructions: log in to ECR, build the context, push the tagged image.
BUILDSPEC = """\
version: 0.2
phases:
  pre_build:
    commands:
      - >-
        aws ecr get-login-password --region $AWS_REGION
        | docker login --username AWS --password-stdin $REGISTRY
  build:
    commands:
      - docker build -t $IMAGE_URI .
  post_build:
    commands:
      - docker push $IMAGE_URI
"""


def image_tag(manifest: Any) -> str:
    """``<model>-v<version>``: the image tag names the model and its version."""
    name = slug(manifest.name, 100)
    if manifest.version is not None:
        return f"{name}-v{manifest.version}"
    return f"{name}-unsaved-" + _dt.datetime.now(_dt.UTC).strftime("%Y%m%d%H%M%S")


def image_for(aws: Aws, manifest: Any) -> str:
    return f"{aws.image_base()}:{image_tag(manifest)}"


def write_context(model: Path, out: Path, options: dict[str, Any] | None = None) -> Path:
    """kepler-serve's container build context for the model (imported only here, from
    kepler-serve's public API: it is the optional extra ``kepler-aws[serve]``)."""
    try:
        from kepler_serve import build_context
    except ImportError as exc:
        raise DeploymentError(
            "Building an image needs kepler-serve's build context, and kepler-serve is not "
            "installed.",
            hint="pip install 'kepler-aws[serve]', or pass an image pushed already "
            "(-o image=ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO:TAG).") from exc
    return Path(build_context(model, out, options or {}))


def pack(context: Path, archive: Path) -> Path:
    """The context as a zip (CodeBuild's S3 sources are zip files)."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for path in sorted(context.rglob("*")):
            if path.is_file():
                zipped.write(path, str(path.relative_to(context)))
    return archive


def builder_for(aws: Aws) -> str:
    if aws.settings.builder == "auto":
        return "docker" if docker_answers() else "codebuild"
    return aws.settings.builder


def build_image(aws: Aws, model: Path, manifest: Any, *,
                options: dict[str, Any] | None = None) -> str:
    """Build and push the model's image (CodeBuild, or Docker: ``aws.builder``); return it."""
    if builder_for(aws) == "docker":
        return docker_build(aws, model, manifest, options=options)
    return codebuild(aws, model, manifest, options=options)


def codebuild(aws: Aws, model: Path, manifest: Any, *,
              options: dict[str, Any] | None = None) -> str:
    """Upload the zipped context to S3 and let CodeBuild build and push it."""
    image = image_for(aws, manifest)
    bucket = aws.bucket()
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%S")
    key = f"kepler/{image_tag(manifest)}-{stamp}.zip"
    with tempfile.TemporaryDirectory(prefix="kepler-aws-") as tmp:
        if aws.dry_run:
            body: Any = "<the build context (Dockerfile, model, lock) as .zip, written by " \
                "kepler-serve at deploy time>"
        else:
            archive = pack(write_context(model, Path(tmp) / "context", options),
                           Path(tmp) / "context.zip")
            body = archive.read_bytes()
        aws.call("s3", "put_object", Bucket=bucket, Key=key, Body=body,
                 doing=f"uploading the build context to s3://{bucket}/{key}")
    started = aws.call(
        "codebuild", "start_build", projectName=aws.settings.codebuild_project,
        sourceTypeOverride="S3", sourceLocationOverride=f"{bucket}/{key}",
        buildspecOverride=BUILDSPEC, privilegedModeOverride=True,
        environmentVariablesOverride=[
            {"name": "IMAGE_URI", "value": image, "type": "PLAINTEXT"},
            {"name": "REGISTRY", "value": aws.registry(), "type": "PLAINTEXT"}],
        doing=f"starting CodeBuild for {image}",
        note="then BatchGetBuilds until the build is done")
    if started is not None:
        wait_build(aws, started["build"]["id"], image)
    return image


def wait_build(aws: Aws, build_id: str, image: str) -> None:
    """Poll CodeBuild until the build ends; anything but SUCCEEDED is an :class:`AwsBuildError`
    with the failed phase's context and the log link."""
    deadline = time.monotonic() + aws.settings.build_timeout
    while True:
        builds = aws.call("codebuild", "batch_get_builds", ids=[build_id],
                          doing=f"waiting for CodeBuild to build {image}")["builds"]
        build = builds[0] if builds else {}
        status = build.get("buildStatus", "IN_PROGRESS")
        if status == "SUCCEEDED":
            return
        if status != "IN_PROGRESS":
            failed = [p for p in build.get("phases", []) if p.get("phaseStatus") not in
                      (None, "SUCCEEDED")]
            context = "; ".join(c.get("message", "") for p in failed
                                for c in p.get("contexts", []) if c.get("message"))
            phase = failed[0]["phaseType"] if failed else build.get("currentPhase", "?")
            link = build.get("logs", {}).get("deepLink")
            raise AwsBuildError(f"CodeBuild did not build {image}: {status} in phase {phase}"
                                + (f": {context}" if context else ""),
                                hint=f"The build log: {link}" if link else
                                f"Open build {build_id} in the CodeBuild console for the log.")
        if time.monotonic() > deadline:
            raise AwsBuildError(f"CodeBuild did not finish {image} within "
                                f"{aws.settings.build_timeout:.0f} s.",
                                hint="Raise aws.build_timeout, or look at the build in the "
                                "console.")
        time.sleep(aws.settings.poll_interval)


def _docker(args: list[str], *, doing: str, stdin: str | None = None) -> None:
    run_docker(args, doing=doing, stdin=stdin, error=AwsBuildError, setting="aws.builder",
               missing_hint="Install Docker, or set aws.builder: codebuild.",
               failed_hint="Check that Docker runs and may push to ECR; or set "
               "aws.builder: codebuild.")


def docker_build(aws: Aws, model: Path, manifest: Any, *,
                 options: dict[str, Any] | None = None) -> str:
    """Build the context with the local Docker engine and push the image to ECR."""
    image = image_for(aws, manifest)
    registry = aws.registry()
    token = aws.call("ecr", "get_authorization_token", doing="getting an ECR login token",
                     note=f"then docker login {registry}, docker build -t {image}, "
                     f"docker push {image}")
    if aws.dry_run:
        return image
    user, _, password = base64.b64decode(
        token["authorizationData"][0]["authorizationToken"]).decode().partition(":")
    with tempfile.TemporaryDirectory(prefix="kepler-aws-") as tmp:
        context = write_context(model, Path(tmp) / "context", options)
        _docker(["login", "-u", user, "--password-stdin", f"https://{registry}"],
                stdin=password, doing=f"logging in to {registry}")
        _docker(["build", "-t", image, str(context)], doing=f"building {image}")
    _docker(["push", image], doing=f"pushing {image}")
    return image


def check_image(aws: Aws, image: str) -> None:
    """Refuse an ECR image whose tag does not exist (other registries are trusted as given)."""
    match = _ECR_IMAGE.match(image)
    if match is None or match["digest"]:
        return
    tag = match["tag"] or "latest"

    def missing(exc: BaseException) -> Exception | None:
        if error_code(exc) in ("ImageNotFoundException", "RepositoryNotFoundException"):
            return AwsImageNotFoundError(
                f"Image {image} is not in ECR (no tag {tag!r} in repository "
                f"{match['repository']!r}).",
                hint="Push it first (docker push ...), fix the tag, or leave -o image out to "
                "build the model's image with CodeBuild.")
        return None

    aws.call("ecr", "describe_images", registryId=match["account"],
             repositoryName=match["repository"], imageIds=[{"imageTag": tag}],
             doing=f"looking up image {image}", guard=missing)
