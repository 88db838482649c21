"""Resolution by pip's own resolver, read from its JSON installation report.

Why pip's ``install --dry-run --ignore-installed --report`` rather than ``uv pip compile`` or a
resolver of Kepler's own: the report (a documented, versioned JSON format, pip >= 22.2) gives in
one document everything a lock and its documentation need — exact versions, download URLs,
sha256 hashes, VCS commit ids, licenses, ``Requires-Dist`` and which packages were asked for —
where ``uv pip compile`` gives text to parse. And when resolution is impossible, pip names the
conflicting pairs one per line ("alpha 1.2 depends on beta<2"), which :mod:`conflicts` turns into
"alpha 1.2 needs beta<2, but gamma 3.0 needs beta>=2". uv still does the installing wherever the
uv manager is used, which is where the time goes.

pip runs as Kepler's own pip pointed at the target interpreter (``pip --python``, pip >= 22.3),
so environments without pip (uv's) resolve the same way; the target's own pip is the fallback.
"""

from __future__ import annotations

import json
import shlex
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import CommandFailedError, EnvError, ToolMissingError
from .indexes import redact_url
from .process import run, tail
from .sources import normalize


@dataclass(frozen=True)
class Resolved:
    """One distribution of a resolution."""

    name: str
    version: str
    requested: bool
    is_direct: bool
    url: str
    #: "index" (found by name on an index or in --find-links), "archive" (a wheel/sdist asked for
    #: by path or URL), "vcs", "dir" or "editable".
    kind: str
    commit: str | None = None
    vcs: str | None = None
    subdirectory: str | None = None
    sha256: str | None = None
    requires: tuple[str, ...] = ()
    license: str = ""
    #: Extras asked for this distribution (pip >= 23.0 reports them).
    extras: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return normalize(self.name)


@dataclass
class Resolution:
    items: list[Resolved]
    environment: dict[str, str]

    def by_key(self) -> dict[str, Resolved]:
        return {item.key: item for item in self.items}

    def parents(self) -> dict[str, list[str]]:
        """key -> names of the resolved distributions that require it (markers evaluated)."""
        from packaging.requirements import InvalidRequirement, Requirement

        found: dict[str, list[str]] = {key: [] for key in self.by_key()}
        for item in self.items:
            for text in item.requires:
                try:
                    requirement = Requirement(text)
                except InvalidRequirement:
                    continue
                marker = requirement.marker
                if marker is not None and not any(
                        marker.evaluate({**self.environment, "extra": extra})
                        for extra in ("", *item.extras)):
                    continue
                key = normalize(requirement.name)
                if key in found and item.name not in found[key]:
                    found[key].append(item.name)
        return found


def pip_command(python: Path) -> list[str]:
    """pip for ``python``: Kepler's pip with ``--python``, else the environment's own pip."""
    if _host_pip_ok():
        return [sys.executable, "-m", "pip", "--python", str(python)]
    probe = run([python, "-m", "pip", "--version"], check=False, what="pip")
    if probe.returncode == 0:
        return [str(python), "-m", "pip"]
    raise ToolMissingError(
        "pip is needed to resolve requirements, and neither Kepler's Python nor the "
        f"environment ({python}) has pip 22.3 or newer.",
        hint=f"{sys.executable} -m ensurepip --upgrade  (or: pip install -U pip)")


_HOST_PIP: list[bool] = []


def _host_pip_ok() -> bool:
    if not _HOST_PIP:
        try:
            from importlib.metadata import version

            from packaging.version import Version

            _HOST_PIP.append(Version(version("pip")) >= Version("22.3"))
        except Exception:
            _HOST_PIP.append(False)
    return _HOST_PIP[0]


def requirement_args(files: Sequence[Path], extra_lines: Sequence[str]) -> list[str]:
    """pip arguments for requirement files plus extra requirement lines (Kepler's own)."""
    args: list[str] = []
    for path in files:
        args += ["-r", str(path)]
    for line in extra_lines:
        args += shlex.split(line) if line.startswith("-") else [line]
    return args


def resolve(python: Path, files: Sequence[Path], extra_lines: Sequence[str], *, cwd: Path,
            env: Mapping[str, str], lines_for_hints: Sequence[Any] = (),
            explain: bool = True) -> Resolution:
    """Resolve ``files`` + ``extra_lines`` for ``python``; raise a clear error when impossible."""
    with tempfile.TemporaryDirectory(prefix="kepler-env-") as tmp:
        report_path = Path(tmp) / "report.json"
        cmd = [*pip_command(python), "install", "--dry-run", "--ignore-installed",
               "--report", str(report_path), *requirement_args(files, extra_lines)]
        result = run(cmd, cwd=cwd, env=env, check=False, what="pip (resolving)")
        if result.returncode != 0:
            raise failure(result, lines_for_hints if explain else None, python=python, cwd=cwd,
                          env=env, extra_lines=extra_lines)
        report = json.loads(report_path.read_text(encoding="utf-8"))
    return parse_report(report)


def parse_report(report: Mapping[str, Any]) -> Resolution:
    items = []
    for entry in report.get("install", []):
        meta = entry.get("metadata", {})
        info = entry.get("download_info", {})
        url = redact_url(str(info.get("url", "")))
        commit = vcs = sha = None
        if "vcs_info" in info:
            kind = "vcs"
            commit = info["vcs_info"].get("commit_id")
            vcs = info["vcs_info"].get("vcs", "git")
        elif "dir_info" in info:
            kind = "editable" if info["dir_info"].get("editable") else "dir"
        else:
            kind = "archive" if entry.get("is_direct") else "index"
            archive = info.get("archive_info", {})
            sha = (archive.get("hashes") or {}).get("sha256")
            if sha is None and str(archive.get("hash", "")).startswith("sha256="):
                sha = archive["hash"].split("=", 1)[1]
        license_text = (meta.get("license_expression") or meta.get("license") or "").strip()
        if not license_text or len(license_text) > 80:
            classifiers = [c.split("::")[-1].strip() for c in meta.get("classifier", [])
                           if c.startswith("License ::")]
            license_text = ", ".join(classifiers) or (license_text.splitlines()[0][:77] + "…"
                                                      if license_text else "")
        items.append(Resolved(
            name=meta.get("name", "?"), version=str(meta.get("version", "?")),
            requested=bool(entry.get("requested")), is_direct=bool(entry.get("is_direct")),
            url=url, kind=kind, commit=commit, vcs=vcs,
            subdirectory=info.get("subdirectory"), sha256=sha,
            requires=tuple(meta.get("requires_dist", []) or ()), license=license_text,
            extras=tuple(entry.get("requested_extras", []) or ())))
    return Resolution(items=items, environment=dict(report.get("environment", {})))


def failure(result: Any, lines: Sequence[Any] | None, **context: Any) -> EnvError:
    """Turn a failed resolution into the error to show: conflicts, a missing version, or pip's."""
    from .conflicts import explain_failure

    explained = explain_failure(result.stdout + "\n" + result.stderr, lines, **context)
    if explained is not None:
        return explained
    return CommandFailedError(f"pip could not resolve the requirements:\n{tail(result)}",
                              hint="Fix the requirement pip names above.")
