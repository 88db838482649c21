"""The ``audit:`` configuration section.

One section serves all of the plugin's capabilities: the audit log, the ``http-csv`` connector
and the ``jsonl`` sink. A third party's plugin usually owns exactly one section, named after it.
"""

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
    results_path: str | None = Field(
        default=None,
        description="Default file of the jsonl sink when no path= is given, relative to the "
        "project (or to the user config folder outside a project).",
        examples=[".kepler/results.jsonl"],
    )
    http_timeout: float = Field(
        default=30.0, gt=0, description="http-csv connector: seconds to wait for the server "
        "(connecting and each read).")
    http_max_bytes: int = Field(
        default=200_000_000, ge=1, description="http-csv connector: largest CSV downloaded; a "
        "bigger one is refused rather than filling memory.")
