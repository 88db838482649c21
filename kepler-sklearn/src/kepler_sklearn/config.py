"""kepler-sklearn's configuration section, ``sklearn:`` in kepler.yml."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SklearnSettings(BaseModel):
    """Settings for training and loading scikit-learn-family models."""

    model_config = ConfigDict(extra="forbid")

    trusted_types: list[str] = Field(
        default_factory=list,
        description="Extra types skops may rebuild when loading a model (your own estimator "
        "classes), e.g. ['mypkg.models.MyModel']. Only list code you trust: loading builds "
        "these classes.",
        examples=[["mypkg.models.MyModel"]],
    )


def configured_trusted_types() -> list[str]:
    """``sklearn.trusted_types`` from the configuration in force: the user's own classes that
    loading a model of this plugin may rebuild."""
    from kepler.api import load_config

    return list(load_config().section("sklearn").trusted_types)
