"""What Kepler remembers about each environment: ``<envs_dir>/<env>.json`` beside it.

The record keeps the manager that built the environment (so ``update`` and ``sync`` use the same
one without ``--manager``), where it lives, its Python, and the Jupyter kernel registered for it.
It sits beside the environment, not inside, so conda prefixes and Docker images (which have no
folder here) are remembered the same way.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


@dataclass
class EnvState:
    env: str
    manager: str
    location: str
    python: str = ""
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    kernel: dict[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def state_path(envs_dir: Path, env: str) -> Path:
    return envs_dir / f"{env}.json"


def read_state(envs_dir: Path, env: str) -> EnvState | None:
    path = state_path(envs_dir, env)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return EnvState(**{k: v for k, v in data.items() if k in EnvState.__dataclass_fields__})
    except (OSError, ValueError, TypeError):
        return None


def write_state(envs_dir: Path, state: EnvState) -> Path:
    path = state_path(envs_dir, state.env)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state.to_dict(), indent=2) + "\n", encoding="utf-8")
    return path


def delete_state(envs_dir: Path, env: str) -> None:
    state_path(envs_dir, env).unlink(missing_ok=True)


def all_states(envs_dir: Path) -> list[EnvState]:
    if not envs_dir.is_dir():
        return []
    found = [read_state(envs_dir, path.stem) for path in sorted(envs_dir.glob("*.json"))]
    return [state for state in found if state is not None]
