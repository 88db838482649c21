"""The ``edge`` section of the configuration: defaults for bundles (each one can be overridden
per deployment with ``-o KEY=VALUE``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class EdgeSettings(BaseModel):
    """``edge:`` in kepler.yml, or ``KEPLER_EDGE__<FIELD>``."""

    model_config = ConfigDict(extra="ignore")

    platform: str = Field(default="manylinux_2_28_x86_64",
                          description="pip platform tag of the device's wheels "
                          "(manylinux_2_28_aarch64 for a Raspberry Pi 4/5 or Jetson).")
    python: str = Field(default="3.11", description="The device's Python (major.minor).")
    tolerance: float = Field(default=1e-5, gt=0, description="Parity tolerance for "
                             "probabilities and values.")
    wheels: bool = Field(default=True, description="Download the runner's wheels into the "
                         "bundle (false: the device installs from an index).")
    spool_max_bytes: int = Field(default=256 << 20, gt=0,
                                 description="Bound of the runner's HEC spool on disk.")
    spool_policy: Literal["drop-oldest", "drop-newest"] = Field(
        default="drop-oldest", description="What the runner drops when the spool is full.")

    @field_validator("python", mode="before")
    @classmethod
    def _version_text(cls, value: object) -> object:
        """``-o python=3.11`` arrives as a number; 3.10 as 3.1 (no Python 3.1 is a target)."""
        if isinstance(value, float | int) and not isinstance(value, bool):
            text = repr(value)
            return "3.10" if text == "3.1" else text
        return value
