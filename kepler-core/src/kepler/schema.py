"""The feature schema of a model: what each input is, as seen in the training data.

Serving validates requests against it, dashboards measure drift against its statistics, and
:meth:`kepler.model.Model.predict` hands it to the model format's ``prepare``, which refuses a
table that lacks a required column before the framework fails somewhere deep inside. It is the
manifest's contract, so it is plain pydantic here; inferring it from a DataFrame and preparing a
table against it are a tabular library's work (kepler-tabular's ``infer_schema`` and
``prepare_inputs``), and core never imports pandas.

Example::

    schema = model.schema
    schema["temperature"].mean, schema["pump"].categories
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Kind = Literal["number", "integer", "boolean", "category", "text", "datetime"]


class Feature(BaseModel):
    """One input column and its statistics over the training rows."""

    model_config = ConfigDict(extra="ignore")

    name: str
    kind: Kind
    #: The pandas dtype at training time, e.g. "float64", "str", "datetime64[ns, UTC]".
    dtype: str
    #: True when no training row lacked it: a missing value at serving time is then suspicious.
    #: Optional features may be absent from a prediction request; they are imputed.
    required: bool = True
    missing_fraction: float = 0.0
    #: Values seen in training, for categories (sorted, as strings).
    categories: list[str] | None = None
    #: Numbers: min/max/mean/std; datetimes: min/max as ISO 8601 strings.
    min: float | str | None = None
    max: float | str | None = None
    mean: float | None = None
    std: float | None = None


class FeatureSchema(BaseModel):
    """The model's inputs, in the order the model expects them."""

    model_config = ConfigDict(extra="ignore")

    features: list[Feature] = Field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.features]

    def __iter__(self) -> Iterator[Feature]:  # type: ignore[override]
        return iter(self.features)

    def __len__(self) -> int:
        return len(self.features)

    def __getitem__(self, name: str) -> Feature:
        for feature in self.features:
            if feature.name == name:
                return feature
        raise KeyError(f"{name!r} is not a feature of this model; features: {self.names}")

    def __contains__(self, name: object) -> bool:
        return name in self.names
