"""The errors of edge export, each naming what blocks it and what to do instead."""

from __future__ import annotations

from kepler.api import DeploymentError, ModelError


class ExportError(ModelError):
    """A model (or one step of it) that has no faithful ONNX form.

    The message names the blocking step (``preprocess/datetime/parts: DatetimeFeatures``) so the
    user knows which feature or estimator to change, not just that "conversion failed"."""


class ParityError(ModelError):
    """The ONNX model scores differently from the native one beyond the tolerance."""


class BundleError(DeploymentError):
    """An edge bundle that cannot be written (wheels unavailable for the platform, a folder
    that is not empty...)."""
