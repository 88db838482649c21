"""Reading requirements files the way pip does, and telling where each requirement comes from.

pip and uv receive the user's files unchanged (they are the authority on the format); Kepler reads
them too, for what the tools do not say: which lines are index packages, git sources, local paths
or editables (the lock, the Dockerfile, poetry's pyproject and DEPENDENCIES.md need that), which
file and line asked for a package (conflict hints), and a digest that tells a stale lock.

Supported, as in pip: ``-r``/``--requirement`` includes (relative to the including file),
``-c`` constraints, ``-e``/``--editable``, line continuations, comments, PEP 508 names with
versions, extras and markers (pre-releases such as ``>=1.0rc1`` included), ``name @ URL``, bare
VCS URLs (``git+https://…@tag``, ``git+ssh://…``, ``git+file://…``), archives and wheels by path
or URL, local folders, and the global options ``--index-url``, ``--extra-index-url``,
``--no-index``, ``--find-links``, ``--pre``, ``--trusted-host``, ``--prefer-binary``,
``--only-binary``, ``--no-binary``.

Example::

    lines = read_requirements([project / "requirements.txt"], project)
    [(line.kind, line.name) for line in lines if not line.is_option]
    # [('index', 'pandas'), ('vcs', None), ('editable', None)]
"""

from __future__ import annotations

import hashlib
import re
import shlex
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from .errors import RequirementsError

Kind = Literal["index", "vcs", "url", "path", "editable", "option"]

VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+")
ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz")
#: Global options that may sit on their own line; the value is in the same line.
GLOBAL_OPTIONS = {
    "-i": "--index-url", "--index-url": "--index-url",
    "--extra-index-url": "--extra-index-url",
    "-f": "--find-links", "--find-links": "--find-links",
    "--trusted-host": "--trusted-host",
    "--only-binary": "--only-binary", "--no-binary": "--no-binary",
    "-c": "--constraint", "--constraint": "--constraint",
}
FLAG_OPTIONS = {"--no-index", "--pre", "--prefer-binary"}
_COMMENT = re.compile(r"(^|\s+)#.*$")
_NAME_AT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*@\s*(\S.*)$")


@dataclass(frozen=True)
class ReqLine:
    """One requirement (or global option) of a requirements file."""

    kind: Kind
    #: The line as pip reads it (continuations joined, comment and per-line options removed).
    text: str
    file: Path
    lineno: int
    #: Distribution name when the line says it (PEP 508 name, ``name @ url``, ``#egg=``).
    name: str | None = None
    #: Version specifier of a named requirement, e.g. ``">=1.0rc1"``.
    specifier: str = ""
    #: URL of a VCS, URL or ``file:`` requirement; for VCS, without the ``@rev``.
    url: str | None = None
    #: For VCS: the revision asked for (tag, branch or commit), if any.
    revision: str | None = None
    #: For local files and folders: the absolute path.
    path: Path | None = None
    extras: tuple[str, ...] = ()
    marker: str = ""
    #: For options: ``(option, value)``, e.g. ``("--find-links", "./wheels")``.
    option: tuple[str, str | None] | None = None
    #: Per-line options such as ``--hash=sha256:…``.
    line_options: tuple[str, ...] = field(default=())

    @property
    def is_option(self) -> bool:
        return self.kind == "option"

    @property
    def where(self) -> str:
        return f"{self.file.name} line {self.lineno}"

    @property
    def source(self) -> str:
        """Where the package comes from, in words for DEPENDENCIES.md and messages."""
        if self.kind == "index":
            return "index"
        if self.kind == "vcs":
            return f"{self.url}@{self.revision}" if self.revision else str(self.url)
        if self.path is not None:
            return f"{'editable ' if self.kind == 'editable' else ''}{self.path}"
        return str(self.url)


def normalize(name: str) -> str:
    """PEP 503 normalized distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Lines with continuations joined and comments removed, numbered from 1 (pip's rules)."""
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not buffer:
            start = number
        line = _COMMENT.sub("", raw) if not raw.lstrip().startswith("#") else ""
        if line.endswith("\\"):
            buffer.append(line[:-1])
            continue
        buffer.append(line)
        joined = " ".join(part.strip() for part in buffer).strip()
        buffer = []
        if joined:
            yield start, joined
    if buffer:
        joined = " ".join(part.strip() for part in buffer).strip()
        if joined:
            yield start, joined


def read_requirements(files: Sequence[Path], project: Path) -> list[ReqLine]:
    """Every requirement and option of ``files``, includes followed, in pip's order."""
    lines: list[ReqLine] = []
    seen: set[Path] = set()
    for path in files:
        lines.extend(_read(path.resolve(), project.resolve(), seen))
    return lines


def _read(path: Path, project: Path, seen: set[Path]) -> Iterator[ReqLine]:
    if path in seen:
        return
    seen.add(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RequirementsError(
            f"Requirements file {path} does not exist.",
            hint="Create it (one requirement per line), or set env.requirements in kepler.yml.",
        ) from None
    for lineno, line in logical_lines(text):
        yield from _parse(line, path, lineno, project, seen)


def _parse(line: str, file: Path, lineno: int, project: Path,
           seen: set[Path]) -> Iterator[ReqLine]:
    if not line.startswith("-"):
        requirement, per_line = _split_line_options(line)
        yield _requirement(requirement, line, file, lineno, project, per_line)
        return
    try:
        words = shlex.split(line, posix=True)
    except ValueError as exc:
        raise RequirementsError(f"{file}:{lineno}: cannot read {line!r}: {exc}.") from None
    head = words[0]
    option, _, inline_value = head.partition("=") if head.startswith("--") else (head, "", "")
    if option.startswith("-") and not option.startswith("--") and len(option) > 2:
        option, inline_value = option[:2], option[2:]  # pip accepts "-rfile" and "-e./x"
    value = inline_value or (words[1] if len(words) > 1 else "")
    if option in ("-r", "--requirement"):
        if not value:
            raise RequirementsError(f"{file}:{lineno}: {option} needs a file name.")
        yield from _read((file.parent / value).resolve(), project, seen)
    elif option in FLAG_OPTIONS:
        yield ReqLine("option", line, file, lineno, option=(option, None))
    elif option in GLOBAL_OPTIONS:
        canonical = GLOBAL_OPTIONS[option]
        if canonical in ("--find-links", "--constraint") and "://" not in value:
            value = str((file.parent / value).resolve())
        yield ReqLine("option", line, file, lineno, option=(canonical, value))
    elif option in ("-e", "--editable"):
        yield _editable(value, line, file, lineno, project)
    else:
        raise RequirementsError(
            f"{file}:{lineno}: option {head!r} is not supported in requirements files.",
            hint="Use requirement lines and the global options pip documents for requirements "
            "files (--index-url, --find-links, -e, -r, -c …).")


_LINE_OPTION = re.compile(r"\s(--hash[=\s]|--config-settings[=\s]|-C\s)")


def _split_line_options(line: str) -> tuple[str, tuple[str, ...]]:
    match = _LINE_OPTION.search(line)
    if match is None:
        return line.strip(), ()
    return line[: match.start()].strip(), tuple(line[match.start():].split())


def _editable(target: str, line: str, file: Path, lineno: int, project: Path) -> ReqLine:
    if not target:
        raise RequirementsError(f"{file}:{lineno}: -e needs a folder or a VCS URL.")
    if target.startswith(VCS_PREFIXES):
        vcs = _vcs(target, line, file, lineno)
        return ReqLine("editable", line, file, lineno, name=vcs.name, url=vcs.url,
                       revision=vcs.revision)
    return ReqLine("editable", line, file, lineno, path=_local_path(target, file))


def _vcs(target: str, line: str, file: Path, lineno: int, name: str | None = None,
         kind: Kind = "vcs") -> ReqLine:
    base, _, fragment = target.partition("#")
    url, revision = base, None
    parts = urlsplit(base)
    if not parts.query and "@" in parts.path:
        revision = parts.path.rpartition("@")[2]
        url = base[: len(base) - len(revision) - 1]
    egg = re.search(r"(?:^|&)egg=([^&]+)", fragment)
    return ReqLine(kind, line, file, lineno, name=name or (egg.group(1) if egg else None),
                   url=url, revision=revision or None)


def _local_path(target: str, file: Path) -> Path:
    """A path as written (``./x``, ``x.whl``, ``file:///x``), made absolute against its file."""
    if target.startswith("file:"):
        return Path(unquote(urlsplit(target).path))
    return (file.parent / Path(target).expanduser()).resolve()


def looks_like_path(target: str) -> bool:
    return (target.startswith((".", "/", "~", "file:")) or target.endswith(ARCHIVE_SUFFIXES)
            or "/" in target or "\\" in target)


def _requirement(requirement: str, line: str, file: Path, lineno: int, project: Path,
                 per_line: tuple[str, ...]) -> ReqLine:
    if requirement.startswith(VCS_PREFIXES):
        return _with_options(_vcs(requirement, line, file, lineno), per_line)
    match = _NAME_AT.match(requirement)
    if match:
        name, extras, url = match.group(1), match.group(2), match.group(3).split(";")[0].strip()
        extras_tuple = tuple(e.strip() for e in extras[1:-1].split(",")) if extras else ()
        if url.startswith(VCS_PREFIXES):
            found = _vcs(url, line, file, lineno, name=name)
            return ReqLine("vcs", line, file, lineno, name=name, url=found.url,
                           revision=found.revision, extras=extras_tuple, line_options=per_line)
        if url.startswith("file:"):
            return ReqLine("path", line, file, lineno, name=name, path=_local_path(url, file),
                           extras=extras_tuple, line_options=per_line)
        return ReqLine("url", line, file, lineno, name=name, url=url, extras=extras_tuple,
                       line_options=per_line)
    if requirement.startswith(("http://", "https://")):
        egg = re.search(r"#egg=([^&]+)", requirement)
        return ReqLine("url", line, file, lineno, name=egg.group(1) if egg else None,
                       url=requirement.split("#")[0], line_options=per_line)
    if looks_like_path(requirement):
        return ReqLine("path", line, file, lineno, path=_local_path(requirement, file),
                       line_options=per_line)
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        parsed = Requirement(requirement)
    except InvalidRequirement as exc:
        raise RequirementsError(
            f"{file}:{lineno}: {requirement!r} is not a valid requirement: {exc}.",
            hint="Write NAME, NAME==1.2, NAME>=1.0rc1, NAME[extra]; python_version<'3.12', "
            "git+https://host/org/repo.git@TAG, -e ./folder or a path to a wheel.",
        ) from None
    return ReqLine("index", line, file, lineno, name=parsed.name, specifier=str(parsed.specifier),
                   extras=tuple(sorted(parsed.extras)),
                   marker=str(parsed.marker) if parsed.marker else "", line_options=per_line)


def _with_options(line: ReqLine, per_line: tuple[str, ...]) -> ReqLine:
    from dataclasses import replace

    return replace(line, line_options=per_line) if per_line else line


def options(lines: Iterable[ReqLine]) -> list[tuple[str, str | None]]:
    """The global options, each once, in order."""
    found: list[tuple[str, str | None]] = []
    for line in lines:
        if line.option is not None and line.option not in found:
            found.append(line.option)
    return found


def digest(lines: Iterable[ReqLine], extra: Iterable[str] = ()) -> str:
    """A fingerprint of what is asked for: the lock records it; a different one means stale.

    Built from the logical lines (comments, blank lines and line breaks do not count) plus
    ``extra`` (Kepler's own requirements and the index URLs, never their credentials).
    """
    hasher = hashlib.sha256()
    for line in lines:
        hasher.update(line.text.encode() + b"\n")
    for item in extra:
        hasher.update(b"+" + item.encode() + b"\n")
    return "sha256:" + hasher.hexdigest()
