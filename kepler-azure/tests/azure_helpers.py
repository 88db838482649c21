"""Helpers of kepler-azure's tests (a unique module name: every distribution's tests run in one
pytest process, where a second ``conftest`` import would resolve to another folder's)."""

from __future__ import annotations

import json

SUB = "sub-dev"
GROUP = "plant-dev"
APP = "pump-failure-dev"
IMAGE = "plantacr.azurecr.io/pump-failure:v3"


def write_model(folder, name="pump-failure", version=3, size=1_000_000):
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {"name": name, "version": version, "task": "classification",
                "algorithm": "random_forest", "trainer": {"name": "random_forest"},
                "format": {"name": "skops"}, "size_bytes": size,
                "environment": {"python": "3.11.9", "packages": {}}}
    (folder / "kepler-model.json").write_text(json.dumps(manifest))
    return folder
