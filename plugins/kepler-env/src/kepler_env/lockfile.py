"""``requirements.lock``: exact pins, pip's format, written from pip's resolution report.

Format (pip-tools / ``uv pip compile`` style, readable by pip and uv)::

    # Written by `kepler env lock` for env 'prod' — do not edit: change requirements*.txt and lock
    # again. Reproduce it exactly with: kepler env sync --locked
    # env: prod
    # digest: sha256:3f1c…            <- fingerprint of the requirements it was made from
    # python: 3.11.7 (linux x86_64)
    --find-links ./wheels
    alpha==1.2 \\
        --hash=sha256:422f…           <- index packages (and find-links files): version + hash
        # alpha==1.2 · via -r requirements.txt
    ./wheels/gamma-2.0-py3-none-any.whl \\
        --hash=sha256:947d…           <- a wheel or sdist asked for by path: its hash
        # gamma==2.0 · via -r requirements.txt
    git+https://github.com/org/lib.git@1c9e0d…   <- git: the commit the tag/branch pointed at
        # lib==0.1.0 · via -r requirements.txt
    -e ./custom-libs/x                <- local folders: as they are (nothing to hash)
        # x==0.3 · via -r requirements.txt

Each entry's comment line carries its name and version, so ``sync`` can check the environment
against the lock, and which requirement pulled it in. Paths inside the project are written
relative to it, so the lock works in any clone and in a Docker build. No index URL carrying
credentials is ever written: private indexes come from kepler.yml at install time.

Installing (``sync``): pip cannot check hashes for some requirements and not others (hash-checking
mode is all-or-nothing, and git sources and folders have no hash), so the hashed entries go in one
``pip install --no-deps --require-hashes`` and the rest in a second ``--no-deps`` run; uv's
``pip sync`` verifies every hash present and installs the rest in one step. ``--no-deps`` makes
the lock the whole truth: nothing outside it is installed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .errors import LockError
from .indexes import redact_url
from .resolver import Resolution, Resolved
from .sources import ReqLine, normalize

KEPT_OPTIONS = ("--index-url", "--extra-index-url", "--find-links", "--no-index",
                "--trusted-host", "--only-binary", "--no-binary", "--prefer-binary")
KEPLER_VIA = "Kepler (kepler env)"
_PIN = re.compile(r"^\s+#\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)"
                  r"(?:\s+·\s+via\s+(?P<via>.*))?$")
_HEADER = re.compile(r"^#\s*(?P<key>digest|env|python):\s*(?P<value>.+?)\s*$")


@dataclass(frozen=True)
class LockEntry:
    """One pinned distribution of the lock."""

    requirement: str
    name: str
    version: str
    kind: str
    hashes: tuple[str, ...] = ()
    commit: str | None = None
    via: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return normalize(self.name)

    def render(self) -> str:
        lines = [self.requirement]
        for digest in self.hashes:
            lines[-1] += " \\"
            lines.append(f"    --hash={digest}")
        via = f" · via {', '.join(self.via)}" if self.via else ""
        lines.append(f"    # {self.name}=={self.version}{via}")
        return "\n".join(lines)

    def one_line(self) -> str:
        """The entry as one requirements-file line (for the files handed to pip)."""
        return " ".join([self.requirement, *(f"--hash={d}" for d in self.hashes)])


@dataclass
class Lock:
    path: Path
    env: str
    digest: str
    python: str
    options: list[str] = field(default_factory=list)
    entries: list[LockEntry] = field(default_factory=list)

    @property
    def hashed(self) -> list[LockEntry]:
        return [e for e in self.entries if e.hashes]

    @property
    def unhashed(self) -> list[LockEntry]:
        return [e for e in self.entries if not e.hashes]

    def by_key(self) -> dict[str, LockEntry]:
        return {entry.key: entry for entry in self.entries}

    def requirements_text(self, entries: Sequence[LockEntry]) -> str:
        """A requirements file of the lock's options and ``entries``, one line each."""
        return "\n".join([*self.options, *(e.one_line() for e in entries)]) + "\n"

    def render(self) -> str:
        head = [
            f"# Written by `kepler env lock` for env '{self.env}' — do not edit: change "
            "requirements*.txt and lock again.",
            "# Reproduce it exactly with: kepler env sync --locked",
            f"# env: {self.env}",
            f"# digest: {self.digest}",
            f"# python: {self.python}",
        ]
        body = [*self.options, *(entry.render() for entry in self.entries)]
        return "\n".join(head + body) + "\n"


def _relative(path: Path, project: Path) -> str | None:
    try:
        relative = path.resolve().relative_to(project.resolve()).as_posix()
    except ValueError:
        return None
    return "./" + relative if relative != "." else "."


def _user_line(item: Resolved, lines: Sequence[ReqLine]) -> ReqLine | None:
    from urllib.parse import unquote, urlsplit

    for line in lines:
        if line.is_option:
            continue
        if line.name and normalize(line.name) == item.key:
            return line
        if line.url and line.url.split("+", 1)[-1] == item.url:
            return line
        if line.path is not None and item.url.startswith("file:") and \
                Path(unquote(urlsplit(item.url).path)) == line.path:
            return line
    return None


def entry_for(item: Resolved, project: Path) -> LockEntry:
    """How one resolved distribution is pinned (see the module docstring)."""
    from urllib.parse import unquote, urlsplit

    local = Path(unquote(urlsplit(item.url).path)) if item.url.startswith("file:") else None
    hashes = (f"sha256:{item.sha256}",) if item.sha256 else ()
    if item.kind == "index":
        requirement = f"{item.name}=={item.version}"
    elif item.kind == "vcs":
        fragment = f"#subdirectory={item.subdirectory}" if item.subdirectory else ""
        requirement = f"{item.vcs or 'git'}+{redact_url(item.url)}@{item.commit}{fragment}"
        hashes = ()
    elif item.kind in ("editable", "dir"):
        hashes = ()
        shown = _relative(local, project) if local is not None else None
        if item.kind == "editable":
            requirement = f"-e {shown or local or item.url}"
        else:
            requirement = shown or f"{item.name} @ {item.url}"
    else:  # an archive asked for by path or URL
        shown = _relative(local, project) if local is not None else None
        requirement = shown or f"{item.name} @ {redact_url(item.url)}"
    return LockEntry(requirement=requirement, name=item.name, version=item.version,
                     kind=item.kind, hashes=hashes, commit=item.commit)


def build_lock(resolution: Resolution, lines: Sequence[ReqLine], *, project: Path, env: str,
               digest: str, path: Path) -> Lock:
    """The lock for a resolution of ``lines`` (the user's) plus Kepler's own requirements."""
    parents = resolution.parents()
    options = []
    for line in lines:
        if line.option is None or line.option[0] not in KEPT_OPTIONS:
            continue
        option, value = line.option
        if value is not None and option == "--find-links" and "://" not in value:
            value = _relative(Path(value), project) or value
        rendered = option if value is None else f"{option} {redact_url(value)}"
        if rendered not in options:
            options.append(rendered)
    entries = []
    for item in sorted(resolution.items, key=lambda i: i.key):
        via = sorted(parents.get(item.key, []), key=str.lower)
        if item.requested:
            user = _user_line(item, lines)
            via.insert(0, f"-r {user.file.name}" if user else KEPLER_VIA)
        entry = entry_for(item, project)
        entries.append(LockEntry(**{**entry.__dict__, "via": tuple(via)}))
    env_info = resolution.environment
    python = (f"{env_info.get('python_full_version', '?')} "
              f"({env_info.get('sys_platform', '?')} {env_info.get('platform_machine', '?')})")
    return Lock(path=path, env=env, digest=digest, python=python, options=options,
                entries=entries)


def write_lock(lock: Lock) -> Path:
    lock.path.write_text(lock.render(), encoding="utf-8")
    return lock.path


def read_lock(path: Path) -> Lock:
    """Read a lock written by :func:`write_lock`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LockError(f"There is no lock file {path.name} in {path.parent}.",
                        hint="Write it with: kepler env lock") from None
    header: dict[str, str] = {}
    options: list[str] = []
    entries: list[LockEntry] = []
    pending: list[str] = []
    for raw in text.splitlines():
        if not raw.strip():
            continue
        header_match = _HEADER.match(raw)
        if header_match:
            header[header_match.group("key")] = header_match.group("value")
            continue
        pin = _PIN.match(raw)
        if pin:
            if not pending:
                raise LockError(f"{path}: a pin comment without a requirement: {raw.strip()!r}.",
                                hint="Write the lock again: kepler env lock")
            entries.append(_entry(pending, pin))
            pending = []
            continue
        if raw.startswith("#"):
            continue
        if raw.startswith("--") and not pending:
            options.append(raw.strip())
            continue
        pending.append(raw.strip().rstrip("\\").strip())
    if pending or "digest" not in header:
        raise LockError(f"{path} was not written by `kepler env lock` (or was edited).",
                        hint="Write it again: kepler env lock")
    return Lock(path=path, env=header.get("env", ""), digest=header["digest"],
                python=header.get("python", ""), options=options, entries=entries)


def _entry(parts: list[str], pin: re.Match[str]) -> LockEntry:
    requirement = parts[0]
    hashes = tuple(p.removeprefix("--hash=") for p in parts[1:] if p.startswith("--hash="))
    commit = None
    kind = "index"
    if re.match(r"^(git|hg|svn|bzr)\+", requirement):
        kind, commit = "vcs", requirement.split("#")[0].rpartition("@")[2]
    elif requirement.startswith("-e "):
        kind = "editable"
    elif not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?==", requirement):
        kind = "archive" if hashes else "dir"
    via = tuple(v.strip() for v in (pin.group("via") or "").split(",") if v.strip())
    return LockEntry(requirement=requirement, name=pin.group("name"),
                     version=pin.group("version"), kind=kind, hashes=hashes, commit=commit,
                     via=via)
