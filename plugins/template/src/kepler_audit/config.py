"""The ``audit:`` configuration section."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class AuditSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=True, description="Record lifecycle events.")
    path: str = Field(
        default=".kepler/audit.jsonl",
        description="Audit log file, relative to the project (or to the user config folder "
        "outside a project).",
        examples=[".kepler/audit.jsonl"],
    )
