"""Shared models and bundles: trained and written once per session, because training and
exporting dominate the run time (the whole kepler-edge suite must stay well under 2 minutes)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from edge_helpers import SENSORS, train


@pytest.fixture(autouse=True)
def _isolated(kepler_home: Path) -> Path:
    return kepler_home


@pytest.fixture(scope="session")
def session_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A Kepler home for session-scoped models (the per-test one does not exist yet)."""
    home = tmp_path_factory.mktemp("kepler-session")
    with pytest.MonkeyPatch.context() as patch:
        for name in ("CONFIG", "CACHE", "DATA"):
            patch.setenv(f"KEPLER_{name}_DIR", str(home / name.lower()))
        yield home


@pytest.fixture(scope="session")
def classifier_folder(session_home: Path) -> Path:
    """A saved random forest classifier (artifact folder)."""
    model = train("random_forest", n_estimators=20)
    return Path(model.save(session_home / "artifacts" / "rf").path)


@pytest.fixture(scope="session")
def bundle(session_home: Path, classifier_folder: Path) -> Path:
    """An edge bundle without wheels (most tests need none)."""
    from kepler_edge.bundle import write_bundle
    from kepler_edge.export import to_onnx

    return write_bundle(to_onnx(classifier_folder), session_home / "bundle",
                        platform="manylinux_2_28_x86_64", python="3.11", wheels=False)


@pytest.fixture
def rows() -> list[dict[str, Any]]:
    frame = SENSORS.drop(columns=["failure", "_time"]).head(5)
    frame = frame.astype(object).where(frame.notna(), None)
    return list(frame.to_dict(orient="records"))


