"""Helpers of kepler-aws's tests (a unique module name: every distribution's tests run in one
pytest process, where a second ``conftest`` import would resolve to another folder's)."""

from __future__ import annotations

import json

ACCOUNT = "123456789012"
REGION = "eu-west-1"
REPO = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/kepler"
DEV_IMAGE = f"{REPO}:pump-failure-v3"


def write_model(folder, name="pump-failure", version=3, size=1_000_000):
    """A hand-written artifact folder: the deployer reads only its manifest (the image build
    is CodeBuild's, or kepler-serve's context replaced in the tests)."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {"name": name, "version": version, "task": "classification",
                "algorithm": "random_forest", "trainer": {"name": "random_forest"},
                "format": {"name": "skops"}, "size_bytes": size,
                "environment": {"python": "3.11.9", "packages": {}}}
    (folder / "kepler-model.json").write_text(json.dumps(manifest))
    return folder


def push_image(moto, tag, repository="kepler", region=REGION):
    """Put an image manifest in moto's ECR (what a docker push leaves)."""
    ecr = moto.client("ecr", region)
    manifest = {"schemaVersion": 2,
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                           "size": 7023, "digest": "sha256:" + "b" * 64},
                "layers": []}
    ecr.put_image(repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=tag,
                  imageManifestMediaType=manifest["mediaType"])
    return f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com/{repository}:{tag}"
