"""Reading and editing the YAML files Kepler owns.

Reading uses PyYAML's safe loader (C-accelerated where available). Editing uses ruamel.yaml's
round-trip mode so comments and key order the user wrote in ``kepler.yml`` or the global config
survive ``kepler plugins disable`` — rewriting a user's file must lose nothing.
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import ConfigError


@functools.cache
def _strict_loader() -> Any:
    """PyYAML's safe loader, refusing duplicate keys (PyYAML keeps the last one silently)."""
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class StrictLoader(base):  # type: ignore[misc, valid-type]
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None,
                        f"duplicate key {key!r} (first on line {seen[key]}; the second would "
                        "silently replace it)",
                        key_node.start_mark,
                    )
                seen[key] = key_node.start_mark.line + 1
            return super().construct_mapping(node, deep=deep)

    return StrictLoader


def read_yaml(path: Path) -> dict[str, Any]:
    """Parse a YAML mapping; a missing file is empty, anything else wrong is a ConfigError."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(
            f"Cannot read {path}: {exc.strerror}.", hint="Check the file's permissions."
        ) from None
    try:
        data = yaml.load(text, Loader=_strict_loader())  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(
            f"{where}: invalid YAML ({problem}).",
            hint="Fix the syntax at that line; YAML needs 'key: value' pairs and consistent "
            "indents.",
        ) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: expected a mapping of sections (key: value) at the top, found a "
            f"{type(data).__name__}.",
            hint="Start the file with section names such as 'splunk:' or 'environments:'.",
        )
    return data


def edit_yaml(path: Path, mutate: Callable[[Any], None]) -> None:
    """Apply ``mutate`` to the file's round-trip document and write it back atomically."""
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    document: Any = None
    if path.exists():
        with path.open(encoding="utf-8") as handle:
            document = yaml.load(handle)
    if document is None:
        from ruamel.yaml.comments import CommentedMap

        document = CommentedMap()
    mutate(document)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            yaml.dump(document, handle)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
