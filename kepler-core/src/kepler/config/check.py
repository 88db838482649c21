"""``kepler config check``: find secrets written in plain text in files git tracks.

Three detectors, each cheap and precise enough to run before every commit:

1. in ``kepler.yml``, a secret field (a ``SecretStr`` of a plugin's section, or a key named like
   ``token``/``password``) holding a literal instead of a ``${...}`` reference;
2. in any tracked text file, the exact value of a secret from the user's secrets store or of a
   secret the current configuration resolved;
3. in any tracked text file, well-known credential shapes: private-key blocks, AWS access key ids,
   JSON web tokens (Splunk authentication tokens are JWTs), Google service-account keys.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..paths import PROJECT_FILE
from . import references
from .layers import RESERVED_KEYS, Path_
from .model import is_secret_path

MAX_FILE_BYTES = 2_000_000
SKIP_DIRS = {".git", ".venv", "venv", ".kepler", "__pycache__", ".nox", "node_modules"}

PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a private key", re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----")),
    ("an AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a JSON web token (e.g. a Splunk token)",
     re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")),
    ("a Google service-account key", re.compile(r'"type"\s*:\s*"service_account"')),
)


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    what: str
    hint: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.what}\n    fix: {self.hint}"


def tracked_files(project_dir: Path) -> tuple[list[Path], bool]:
    """Files git tracks in the project, and whether the project is a git repository at all.

    Outside git every file of the project is checked (minus environments and caches), since any
    of them may be committed later.
    """
    try:
        out = subprocess.run(
            ["git", "-C", str(project_dir), "ls-files", "-z", "--cached", "--", "."],
            capture_output=True, check=True, timeout=30,
        ).stdout
    except (OSError, subprocess.CalledProcessError, subprocess.TimeoutExpired):
        files = [
            p for p in project_dir.rglob("*")
            if p.is_file() and not SKIP_DIRS.intersection(p.relative_to(project_dir).parts)
        ]
        return sorted(files), False
    names = [n for n in out.decode("utf-8", "surrogateescape").split("\0") if n]
    return [project_dir / n for n in names], True


def _yaml_leaves(text: str) -> list[tuple[Path_, Any, int]]:
    """``(path, scalar value, line)`` for every scalar in a YAML mapping document."""
    import yaml

    root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    leaves: list[tuple[Path_, Any, int]] = []

    def walk(node: Any, path: Path_) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                walk(value, (*path, str(key.value)))
        elif isinstance(node, yaml.ScalarNode) and path:
            leaves.append((path, node.value, node.start_mark.line + 1))

    if root is not None:
        walk(root, ())
    return leaves


def _section_path(path: Path_) -> Path_ | None:
    """Strip ``environments.<env>.`` so an override is checked like the section it overrides."""
    if path[0] == "environments" and len(path) > 2:
        return path[2:]
    if path[0] in RESERVED_KEYS:
        return None
    return path


def check_project_file(path: Path, rel: str, models: dict[str, Any]) -> list[Finding]:
    import yaml

    try:
        leaves = _yaml_leaves(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return []  # 'kepler config show' reports unreadable or invalid files
    findings = []
    for path_, value, line in leaves:
        section_path = _section_path(path_)
        if section_path is None or len(section_path) < 2 or value in ("", None):
            continue
        if references.is_reference(value):
            continue
        if is_secret_path(models.get(section_path[0]), section_path[1:]):
            key = ".".join(path_)
            name = secret_name(section_path)
            findings.append(Finding(
                rel, line, f"{key} holds a secret in plain text",
                f"kepler secrets set {name}  then write  {path_[-1]}: ${{secret:{name}}}  "
                "(and rotate the exposed secret: git history keeps it)",
            ))
    return findings


def scan_text(rel: str, text: str, known: dict[str, str]) -> list[Finding]:
    findings = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        for name, value in known.items():
            if value in line:
                findings.append(Finding(
                    rel, line_number, f"contains the value of secret {name!r}",
                    f"replace it with ${{secret:{name}}} and rotate the secret",
                ))
        for label, pattern in PATTERNS:
            if pattern.search(line):
                findings.append(Finding(
                    rel, line_number, f"looks like {label}",
                    "move it into the secrets store (kepler secrets set NAME) and reference it",
                ))
    return findings


def secret_name(path: Path_) -> str:
    """The name ``kepler config check`` suggests for a secret at ``path``: every part of the key
    in lower case joined by '-' (``splunk.hec_token`` -> ``splunk-hec-token``)."""
    return "-".join(part.replace("_", "-").lower() for part in path)


def _one_per_line(findings: list[Finding]) -> list[Finding]:
    """A line flagged twice (a plain-text secret that is also a known secret's value, or
    matches a pattern) is one finding: the first, most specific, one."""
    seen: set[tuple[str, int]] = set()
    kept = []
    for finding in findings:
        if (finding.file, finding.line) not in seen:
            seen.add((finding.file, finding.line))
            kept.append(finding)
    return kept


def find_secret_literals(
    project_dir: Path, models: dict[str, Any], known_secrets: dict[str, str]
) -> tuple[list[Finding], bool]:
    """Every finding in the project's tracked files, and whether git was used to list them."""
    files, in_git = tracked_files(project_dir)
    known = {n: v for n, v in known_secrets.items() if len(v) >= 8}
    findings: list[Finding] = []
    for file in files:
        try:
            if file.stat().st_size > MAX_FILE_BYTES:
                continue
            raw = file.read_bytes()
        except OSError:
            continue
        if b"\0" in raw[:8192]:
            continue  # binary
        rel = str(file.relative_to(project_dir))
        text = raw.decode("utf-8", "replace")
        if rel == PROJECT_FILE:
            findings.extend(check_project_file(file, rel, models))
        findings.extend(scan_text(rel, text, known))
    return _one_per_line(findings), in_git
