"""``kp.models.to_onnx`` and ``kp.deploy.to_edge``.

``to_edge`` goes through core's ``kp.deploy.create(model, target="edge")`` so the bundle is a
deployment like any other (``kepler deploy list``) and ``kepler_after_deploy`` fires once.

Example::

    import kepler as kp
    onnx = kp.models.to_onnx("pump-failure:prod")          # parity checked, report in str(onnx)
    kp.deploy.to_edge("pump-failure:prod", out="dist/pump-edge", platform="manylinux_2_28_aarch64")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kepler.api import namespace

from .export import DEFAULT_TOLERANCE, OnnxExport
from .export import to_onnx as _to_onnx


def to_onnx(model: Any, *, rows: Any = None, tolerance: float = DEFAULT_TOLERANCE,
            force: bool = False, opset: int | None = None) -> OnnxExport:
    """Export ``model`` to ONNX after a parity check (see :func:`kepler_edge.export.to_onnx`)."""
    return _to_onnx(model, rows=rows, tolerance=tolerance, force=force, opset=opset)


def to_edge(model: Any, *, out: Path | str, name: str | None = None, replace: bool = True,
            **options: Any) -> Any:
    """Write the offline edge bundle of ``model`` into ``out`` and record the deployment.

    ``options``: ``platform`` (pip tag, default ``manylinux_2_28_x86_64``), ``python``
    (``"3.11"``), ``tolerance``, ``force``, ``wheels=False`` (no download), ``spool_max_bytes``,
    ``spool_policy``; defaults come from the ``edge`` config section."""
    deployment = namespace("deploy").create(model, target="edge", name=name, replace=replace,
                                            out=str(out), **options)
    return deployment
