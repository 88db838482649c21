"""Merging configuration layers while remembering where each value came from.

Layers, lowest first: section defaults < the user's global file < the project's ``kepler.yml`` <
its ``environments.<env>`` section < environment variables ``KEPLER_<SECTION>__<FIELD>``.
Each leaf value keeps the name of the layer that set it, so ``kepler config show`` and every
validation error can say *where* a value came from.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

Path_ = tuple[str, ...]

#: Top-level keys of kepler.yml that are not configuration sections.
RESERVED_KEYS = frozenset({"project", "environments", "plugins", "default_env"})
ENV_PREFIX = "KEPLER_"
ENV_SEPARATOR = "__"


@dataclass
class Layered:
    """Merged values plus, for every leaf path, the layer that set it."""

    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[Path_, str] = field(default_factory=dict)

    def apply(self, data: Mapping[str, Any], source: str) -> None:
        _merge(self.values, data, (), source, self.sources)

    def source_of(self, path: Path_) -> str | None:
        """The layer of ``path`` or of its nearest ancestor that was set as a whole."""
        for end in range(len(path), 0, -1):
            found = self.sources.get(path[:end])
            if found is not None:
                return found
        return None


def _merge(
    target: dict[str, Any], data: Mapping[str, Any], prefix: Path_, source: str,
    sources: dict[Path_, str],
) -> None:
    for key, value in data.items():
        key = str(key)
        path = (*prefix, key)
        if isinstance(value, Mapping) and value:
            existing = target.get(key)
            if not isinstance(existing, dict):
                existing = {}
                target[key] = existing
                _forget_below(sources, path)
            _merge(existing, value, path, source, sources)
        else:
            target[key] = value
            _forget_below(sources, path)
            sources[path] = source


def _forget_below(sources: dict[Path_, str], path: Path_) -> None:
    for known in [p for p in sources if p[: len(path)] == path]:
        del sources[known]


def env_overrides(environ: Mapping[str, str] | None = None) -> Iterator[tuple[str, Path_, Any]]:
    """Yield ``(variable, path, value)`` for each ``KEPLER_<SECTION>__<FIELD>`` variable.

    Values that look like JSON lists or objects are parsed; scalars stay strings and the section's
    model converts them (``"8089"`` becomes an int where the field is an int).
    """
    environ = os.environ if environ is None else environ
    for variable, raw in sorted(environ.items()):
        if not variable.startswith(ENV_PREFIX) or ENV_SEPARATOR not in variable:
            continue
        parts = variable[len(ENV_PREFIX):].lower().split(ENV_SEPARATOR)
        if not all(parts):
            continue
        value: Any = raw
        stripped = raw.strip()
        if stripped[:1] in {"[", "{"}:
            try:
                value = json.loads(stripped)
            except ValueError:
                value = raw
        yield variable, tuple(parts), value


def nest(path: Path_, value: Any) -> dict[str, Any]:
    result: Any = value
    for key in reversed(path):
        result = {key: result}
    return dict(result)


def flatten(values: Mapping[str, Any], prefix: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    for key, value in values.items():
        path = (*prefix, str(key))
        if isinstance(value, Mapping) and value:
            yield from flatten(value, path)
        else:
            yield path, value
