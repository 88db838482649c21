"""Model format ``python-code``: the user's code and artifact files, no pickle.

Layout of the payload (every file hashed by core like any payload)::

    code/<model.py | package/>      the code, copied without __pycache__
    artifacts/<KEY>/<name>           each artifact file or folder, under its key

The options kept in the manifest name the code, the class, each artifact's path and the
requirements. Loading checks the requirements, imports a private copy of the stored code,
builds the class and calls ``load`` with the artifact paths inside the artifact folder.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from kepler.api import ArtifactError

from .code import IGNORED, copy_code
from .predictor import CodeModel
from .requirements import check

CODE_DIR = "code"
ARTIFACTS_DIR = "artifacts"


def save_code(predictor: CodeModel, folder: Path) -> dict[str, Any]:
    """Copy the code and every artifact into ``folder``; return the options to keep."""
    code = copy_code(predictor.source, folder / CODE_DIR)
    stored: dict[str, str] = {}
    for key, path in predictor.artifacts.items():
        destination = folder / ARTIFACTS_DIR / key
        destination.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            shutil.copytree(path, destination / path.name, ignore=IGNORED)
        else:
            shutil.copy2(path, destination / path.name)
        stored[key] = f"{ARTIFACTS_DIR}/{key}/{path.name}"
    return {"code": code.relative_to(folder).as_posix(), "class": predictor.class_name,
            "artifacts": stored, "requirements": list(predictor.requirements)}


def _inside(folder: Path, relative: Any) -> Path:
    """``folder/relative``, refused when the recorded path leaves the artifact."""
    text = str(relative)
    pure = PurePosixPath(text)
    if not text or pure.is_absolute() or ".." in pure.parts:
        raise ArtifactError(f"{folder}: path {text!r} in the manifest leaves the artifact.",
                            hint="The manifest is damaged or tampered with; restore the model.")
    path = folder.joinpath(*pure.parts)
    if not path.exists():
        raise ArtifactError(f"{folder}: {text} is not in the artifact.",
                            hint="The artifact is damaged; restore or re-register the model.")
    return path


def load_code(folder: Path, options: Mapping[str, Any], **_: Any) -> CodeModel:
    """Check the requirements, import the stored code and load the artifacts."""
    check(options.get("requirements", []), model=f"the model in {folder}")
    source = _inside(folder, options.get("code", ""))
    artifacts = {str(key): _inside(folder, value)
                 for key, value in dict(options.get("artifacts", {})).items()}
    return CodeModel.load_from(source, str(options.get("class", "")) or None, artifacts,
                               list(options.get("requirements", [])))
