"""Conflict reports people can act on: "alpha 1.2 needs beta<2, but gamma 3.0 needs beta>=2".

pip's resolver, when it gives up, prints the reasons one per line under "The conflict is caused
by:" — ``alpha 1.2 depends on beta<2`` or ``The user requested beta>=2``. They are grouped here by
the package fought over and written as one sentence per conflict, naming the requirements file
and line of each requirement the user wrote.

"What to change" is computed, not guessed: for each pinned requirement of the user's involved in
the conflict (at most three), pip resolves again with that pin lifted; when that works, the hint
names the version that fits ("change 'gamma==3.0' (requirements.txt line 4) to 'gamma==2.0'").
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import EnvConflictError, EnvError, RequirementsError
from .sources import ReqLine, normalize

MAX_TRIALS = 3
_CAUSE = re.compile(r"^\s*(?:The user requested (?P<constraint>\(constraint\) )?(?P<user>.+)"
                    r"|(?P<name>\S+) (?P<version>\S+) depends on (?P<dep>.+))$")
_NOT_FOUND = re.compile(r"Could not find a version that satisfies the requirement (?P<req>.+?) "
                        r"\(from versions: (?P<versions>[^)]*)\)")


@dataclass(frozen=True)
class Reason:
    """One side of a conflict: who asks for which requirement."""

    requirement: str
    #: "alpha 1.2" for a package, None when the user asked (a requirements file).
    package: str | None = None
    version: str | None = None
    constraint: bool = False

    @property
    def target(self) -> str:
        """Normalized name of the package asked for."""
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", self.requirement)
        return normalize(match.group(1)) if match else self.requirement


def parse_causes(text: str) -> list[Reason]:
    """The reasons under every "The conflict is caused by:" block of pip's output."""
    reasons: list[Reason] = []
    inside = False
    for line in text.splitlines():
        if "The conflict is caused by:" in line:
            inside = True
            continue
        if inside:
            if not line.strip():
                inside = False
                continue
            match = _CAUSE.match(line)
            if match is None:
                continue
            if match.group("user"):
                reason = Reason(requirement=_clean(match.group("user")),
                                constraint=bool(match.group("constraint")))
            else:
                reason = Reason(requirement=_clean(match.group("dep")),
                                package=match.group("name"), version=match.group("version"))
            if reason not in reasons:
                reasons.append(reason)
    return reasons


def _clean(requirement: str) -> str:
    return requirement.strip().rstrip(".")


def sentences(reasons: Sequence[Reason], lines: Sequence[ReqLine] = ()) -> list[str]:
    """One sentence per package fought over."""
    groups: dict[str, list[Reason]] = {}
    for reason in reasons:
        groups.setdefault(reason.target, []).append(reason)
    out = []
    for group in groups.values():
        if len(group) < 2:
            continue
        first, *others = group
        rest = " and ".join(f"{_who(r, lines)} {_verb(r)} {r.requirement}" for r in others)
        out.append(f"{_who(first, lines)} {_verb(first)} {first.requirement}, but {rest}")
    return out


def _verb(reason: Reason) -> str:
    return "needs" if reason.package else "asks for"


def _who(reason: Reason, lines: Sequence[ReqLine]) -> str:
    if reason.package:
        return f"{reason.package} {reason.version}"
    line = _user_line(reason.target, lines)
    if reason.constraint:
        return "a constraint" + (f" ({line.where})" if line else "")
    return f"{line.file.name} (line {line.lineno})" if line else "your requirements"


def _user_line(name: str, lines: Sequence[ReqLine]) -> ReqLine | None:
    for line in lines:
        if line.name and normalize(line.name) == name:
            return line
    return None


def explain_failure(text: str, lines: Sequence[ReqLine] | None, *, python: Path, cwd: Path,
                    env: Mapping[str, str], extra_lines: Sequence[str]) -> EnvError | None:
    """The error for pip's failure ``text``; None when it is neither a conflict nor a miss."""
    lines = list(lines or ())
    reasons = parse_causes(text)
    if reasons:
        found = sentences(reasons, lines) or [r.requirement for r in reasons]
        hint = _suggest(reasons, lines, python=python, cwd=cwd, env=env,
                        extra_lines=extra_lines) if lines else None
        return EnvConflictError(
            "The requirements conflict; nothing was installed:\n"
            + "\n".join(f"  - {s}" for s in found),
            hint=hint or "Loosen or remove one of the requirements named above.",
            conflicts=found)
    missing = _NOT_FOUND.search(text)
    if missing:
        requirement = missing.group("req").strip()
        versions = missing.group("versions").strip()
        line = _user_line(_name_of(requirement), lines)
        where = f" ({line.where})" if line else ""
        if versions == "none":
            return RequirementsError(
                f"No package {requirement!r}{where} on the indexes pip looked at.",
                hint="Check the name; for a private package, add its index to env.indexes in "
                "kepler.yml (credentials as ${secret:NAME}) or its folder with --find-links.")
        return RequirementsError(
            f"No version of {requirement!r}{where} exists; available: {versions}.",
            hint=f"Change the requirement{where} to one of the available versions.")
    return None


def _name_of(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return normalize(match.group(1)) if match else requirement


def _suggest(reasons: Sequence[Reason], lines: Sequence[ReqLine], *, python: Path, cwd: Path,
             env: Mapping[str, str], extra_lines: Sequence[str]) -> str | None:
    """Try lifting each involved pin of the user's; say which change resolves."""
    involved: list[ReqLine] = []
    for reason in reasons:
        for name in (reason.target, normalize(reason.package) if reason.package else None):
            line = _user_line(name, lines) if name else None
            if line is not None and line.kind == "index" and line.specifier \
                    and line not in involved:
                involved.append(line)
    fixes = []
    for line in involved[:MAX_TRIALS]:
        version = _trial(line, lines, python=python, cwd=cwd, env=env, extra_lines=extra_lines)
        if version is not None:
            fixes.append(f"change '{line.text}' ({line.where}) to '{line.name}=={version}'")
    if fixes:
        return "To resolve it, " + "; or ".join(fixes) + " (each checked with pip's resolver)."
    if involved:
        listed = ", ".join(f"'{line.text}' ({line.where})" for line in involved)
        return f"Lifting any one pin alone does not help; loosen or remove more of: {listed}."
    return None


def _trial(relaxed: ReqLine, lines: Sequence[ReqLine], *, python: Path, cwd: Path,
           env: Mapping[str, str], extra_lines: Sequence[str]) -> str | None:
    from .resolver import resolve

    with tempfile.TemporaryDirectory(prefix="kepler-env-trial-") as tmp:
        path = Path(tmp) / "requirements.txt"
        path.write_text(flatten(lines, relax=relaxed), encoding="utf-8")
        try:
            resolution = resolve(python, [path], extra_lines, cwd=cwd, env=env, explain=False)
        except EnvError:
            return None
    found = resolution.by_key().get(normalize(relaxed.name or ""))
    return found.version if found else None


def flatten(lines: Sequence[ReqLine], relax: ReqLine | None = None) -> str:
    """One requirements file equal to ``lines`` (paths made absolute), ``relax`` unpinned."""
    out = []
    for line in lines:
        if line.option is not None:
            option, value = line.option
            out.append(option if value is None else f"{option} {value}")
        elif line == relax:
            extras = f"[{','.join(line.extras)}]" if line.extras else ""
            marker = f"; {line.marker}" if line.marker else ""
            out.append(f"{line.name}{extras}{marker}")
        elif line.kind == "editable" and line.path is not None:
            out.append(f"-e {line.path}")
        elif line.kind == "path" and line.path is not None:
            out.append(f"{line.name} @ {line.path.as_uri()}" if line.name else str(line.path))
        else:
            out.append(line.text)
    return "\n".join(out) + "\n"


def pip_check_sentences(output: str) -> list[str]:
    """``pip check`` lines as sentences: "alpha 1.2 needs beta<2, but beta 2.1 is installed"."""
    found = []
    for line in output.splitlines():
        match = re.match(r"^(\S+) (\S+) has requirement (.+), but you have (\S+) (\S+?)\.?$", line)
        if match:
            found.append(f"{match.group(1)} {match.group(2)} needs {match.group(3)}, but "
                         f"{match.group(4)} {match.group(5)} is installed")
            continue
        match = re.match(r"^(\S+) (\S+) requires (\S+), which is not installed\.?$", line)
        if match:
            found.append(f"{match.group(1)} {match.group(2)} needs {match.group(3)}, which is "
                         "not installed")
    return found
