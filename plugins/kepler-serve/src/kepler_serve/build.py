"""Container build contexts: ``kepler deploy build MODEL --out DIR`` (``kp.deploy.build``).

Every deployment target that runs containers (Cloud Run, AWS, Azure) starts from this folder::

    DIR/
      Dockerfile          python:<the model's Python>-slim, non-root user, HEALTHCHECK on /health,
                          listens on $PORT (8080 by default), runs entrypoint.py
      requirements.lock   exactly the packages the model needs, pinned (==), each with the
                          packages they need in turn: the model's own (its manifest's
                          environment), kepler-serve, and the prediction log
                          sink's distribution (kepler-splunk for splunk-hec)
      wheels/             packages that come from no index: Kepler's own distributions installed
                          from a local folder (wheels built from them); with ``-o wheels=all``,
                          every package (an offline build: the Dockerfile installs --no-index)
      model/              the model artifact (manifest and payload, hashes verified at start)
      entrypoint.py       python -m kepler_serve model/ --host $HOST --port $PORT
      kepler-build.json   what is inside: model, version, Python, packages, how they were sourced

The lock is computed from the model's manifest (``environment.packages``: the versions it was
trained with) and, for what those need, from the installed distributions' metadata (their
requirements, with markers evaluated for Linux and the model's Python). A package installed
here at a version other than the manifest's is locked at the manifest's, with a warning.

Options (``-o KEY=VALUE``): ``wheels=local|all`` (default local), ``base_image`` (default
``python:<X.Y>-slim``), ``splunk=true|false`` (add kepler-splunk for prediction logging; default:
the distribution of ``serve.log_sink``'s sink), ``packages=[name, ...]`` (extra distributions to
lock and install).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata as metadata
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kepler.api import DeploymentError

log = logging.getLogger(__name__)

LOCK_FILE = "requirements.lock"
WHEELS = "wheels"
MODEL = "model"
ENTRYPOINT = "entrypoint.py"
INFO_FILE = "kepler-build.json"
#: What the server itself needs on top of the model's packages.
SERVER_DISTRIBUTION = "kepler-serve"


def canonical(name: str) -> str:
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(name))


@dataclass
class Locked:
    """One line of the lock."""

    name: str
    version: str | None
    #: "index" (pip finds it by name), "wheel" (a file in wheels/), "missing".
    source: str = "index"
    wheel: str | None = None
    #: Why it is there: "model" (its manifest), "server", or the packages requiring it.
    reasons: list[str] = field(default_factory=list)

    def line(self) -> str:
        if self.wheel is not None:
            return f"./{WHEELS}/{self.wheel}"
        return f"{self.name}=={self.version}" if self.version else self.name


def _distribution(name: str) -> metadata.Distribution | None:
    try:
        return metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return None


def _marker_environment(python: str) -> dict[str, str]:
    """Markers as the container sees them: Linux, this machine's architecture, the model's
    Python."""
    parts = [*python.split("."), "0", "0"][:3]
    return {"python_version": ".".join(parts[:2]), "python_full_version": ".".join(parts),
            "sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
            "platform_machine": platform.machine() or "x86_64",
            "implementation_name": "cpython", "platform_python_implementation": "CPython"}


def _requirements(dist: metadata.Distribution, extras: Iterable[str], env: Mapping[str, str]
                  ) -> list[tuple[str, set[str]]]:
    from packaging.requirements import InvalidRequirement, Requirement

    found = []
    for text in dist.requires or []:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        marker = requirement.marker
        if marker is not None and not any(marker.evaluate({**env, "extra": extra})
                                          for extra in ["", *extras]):
            continue
        found.append((canonical(requirement.name), set(requirement.extras)))
    return found


def lock(roots: Mapping[str, str | None], *, python: str,
         reasons: Mapping[str, str] | None = None) -> dict[str, Locked]:
    """The closure of ``roots`` (name -> version or None for "as installed") over installed
    distributions' requirements; each locked at the root's version or the installed one."""
    env = _marker_environment(python)
    locked: dict[str, Locked] = {}
    pending: list[tuple[str, set[str], str]] = [(canonical(n), set(), (reasons or {}).get(n, "")
                                                 ) for n in roots]
    wanted = {canonical(n): v for n, v in roots.items()}
    seen_extras: dict[str, set[str]] = {}
    while pending:
        name, extras, reason = pending.pop()
        entry = locked.get(name)
        if entry is not None:
            if reason and reason not in entry.reasons:
                entry.reasons.append(reason)
            if extras <= seen_extras.get(name, set()):
                continue
        dist = _distribution(name)
        installed = dist.version if dist is not None else None
        version = wanted.get(name) or installed
        if entry is None:
            entry = Locked(name=name, version=version,
                           source="index" if dist is not None or version else "missing",
                           reasons=[reason] if reason else [])
            locked[name] = entry
            if wanted.get(name) and installed and wanted[name] != installed:
                log.warning("the model was saved with %s %s; %s is installed here: the lock "
                            "pins %s", name, wanted[name], installed, wanted[name])
        seen_extras[name] = seen_extras.get(name, set()) | extras
        if dist is None:
            if version:
                log.warning("%s %s is not installed here: it is locked, but what it requires "
                            "is not; install it here and build again for a complete lock",
                            name, version)
            continue
        for child, child_extras in _requirements(dist, extras, env):
            pending.append((child, child_extras, name))
    return dict(sorted(locked.items()))


# --- wheels -----------------------------------------------------------------------------------


def is_local(dist: metadata.Distribution) -> bool:
    """Installed from a folder or file on this machine (no index can provide it)."""
    from kepler.api import install_origin

    return install_origin(dist).is_local


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return f"sha256={digest.decode()}"


def _wheel_tags(dist: metadata.Distribution) -> str:
    text = dist.read_text("WHEEL") or ""
    tags = [line.split(":", 1)[1].strip() for line in text.splitlines()
            if line.startswith("Tag:")]
    if not tags:
        return "py3-none-any"
    parts = [t.split("-") for t in tags]
    pythons = sorted({p[0] for p in parts})
    abis = sorted({p[1] for p in parts})
    platforms = sorted({p[2] for p in parts})
    return f"{'.'.join(pythons)}-{'.'.join(abis)}-{'.'.join(platforms)}"


def repack(dist: metadata.Distribution, out: Path) -> Path:
    """A wheel of an installed (not editable) distribution, from its RECORD: the files it put in
    site-packages, its metadata, and a new RECORD. Console scripts are regenerated by the
    installer from entry_points.txt; compiled caches are left out."""
    name = dist.metadata["Name"]
    version = dist.version
    stem = f"{canonical(name).replace('-', '_')}-{version}"
    info_dir = f"{stem}.dist-info"
    path = out / f"{stem}-{_wheel_tags(dist)}.whl"
    files = dist.files or []
    base = Path(str(dist.locate_file("")))
    skipped_meta = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}
    records: list[str] = []
    out.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED,
                         compresslevel=1) as archive:
        for file in files:
            relative = file.as_posix()
            if relative.startswith("..") or "__pycache__" in relative or \
                    relative.endswith(".pyc"):
                continue
            parts = relative.split("/")
            target = relative
            if parts[0].endswith(".dist-info"):
                if parts[-1] in skipped_meta:
                    continue
                target = "/".join([info_dir, *parts[1:]])
            source = base / relative
            if not source.is_file():
                continue
            data = source.read_bytes()
            archive.writestr(target, data)
            records.append(f"{target},{_record_hash(data)},{len(data)}")
        records.append(f"{info_dir}/RECORD,,")
        archive.writestr(f"{info_dir}/RECORD", "\n".join(records) + "\n")
    os.replace(temporary, path)
    return path


def build_wheel(source: Path, out: Path) -> Path:
    """A wheel built from a source folder (an editable install), without network access when
    the build backend is installed here."""
    out.mkdir(parents=True, exist_ok=True)
    before = set(out.glob("*.whl"))
    base = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
            "--disable-pip-version-check", "--wheel-dir", str(out), str(source)]
    attempts = [[*base[:4], "--no-build-isolation", *base[4:]], base]
    errors = []
    for command in attempts:
        result = subprocess.run(command, capture_output=True, text=True, timeout=600)
        if result.returncode == 0:
            built = sorted(set(out.glob("*.whl")) - before)
            if built:
                return built[0]
            name = source.name.replace("-", "_")
            match = sorted(out.glob(f"{name}-*.whl"))
            if match:
                return match[-1]
        errors.append((result.stderr or result.stdout).strip().splitlines()[-3:])
    raise DeploymentError(f"Could not build a wheel of {source}: {errors[-1]}",
                          hint="Install its build backend here (pip install hatchling) or "
                          "install the package from a wheel.")


def _wheel_of(dist: metadata.Distribution, out: Path) -> Path:
    """A wheel of ``dist``: built from its source folder when it is an editable install,
    else repacked from what it installed."""
    from kepler.api import install_origin

    origin = install_origin(dist)
    if origin.kind == "editable" and origin.path is not None:
        return build_wheel(origin.path, out)
    return repack(dist, out)


# --- the context ------------------------------------------------------------------------------


DOCKERFILE = """\
# Container for Kepler model {model} {version_label}, written by kepler-serve {serve_version}.
#   docker build -t {tag} .
#   docker run -p 8080:8080 {tag}          # then: curl localhost:8080/health
# Prediction logging to Splunk: -e KEPLER_SERVE__LOG_TO_SPLUNK=true -e KEPLER_SERVE__INDEX=...
#   -e KEPLER_SPLUNK__HEC_URL=https://splunk:8088 -e KEPLER_SPLUNK__HEC_TOKEN=... (a secret)
FROM {base_image}

ENV PYTHONDONTWRITEBYTECODE=1 \\
    PYTHONUNBUFFERED=1 \\
    PIP_NO_CACHE_DIR=1 \\
    PIP_DISABLE_PIP_VERSION_CHECK=1 \\
    HOST=0.0.0.0 \\
    PORT=8080 \\
    KEPLER_CONFIG_DIR=/tmp/kepler/config \\
    KEPLER_DATA_DIR=/tmp/kepler/data \\
    KEPLER_CACHE_DIR=/tmp/kepler/cache

RUN groupadd --system --gid 10001 kepler \\
 && useradd --system --uid 10001 --gid kepler --home-dir /app --no-create-home \\
    --shell /usr/sbin/nologin kepler

WORKDIR /app
COPY {lock} ./
COPY {wheels}/ ./{wheels}/
RUN pip install --no-deps {no_index}--find-links ./{wheels} --requirement {lock} \\
 && pip check \\
 && rm -rf ./{wheels}

COPY {model_dir}/ ./{model_dir}/
COPY {entrypoint} {info} ./

USER kepler
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \\
  CMD ["python", "-c", "{healthcheck}"]
CMD ["python", "/app/{entrypoint}"]
"""

HEALTHCHECK = ("import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' "
               "% os.environ.get('PORT', '8080'), timeout=4)")

ENTRYPOINT_CODE = '''\
"""Serve the Kepler model in the folder next to this file on $HOST:$PORT (written by
kepler-serve {serve_version}; the container's command)."""

import os
import sys
from pathlib import Path

from kepler_serve.server import main

if __name__ == "__main__":
    model = Path(__file__).resolve().parent / "{model_dir}"
    sys.exit(main([str(model), "--host", os.environ.get("HOST", "0.0.0.0")]))
'''


def _log_sink_distributions(options: Mapping[str, Any]) -> list[str]:
    """The distribution providing the prediction log's sink, which the server needs too:
    ``splunk=true|false`` decides for kepler-splunk, else ``serve.log_sink`` (or
    ``log_to_splunk``) names the sink, whose record says which distribution provides it."""
    if "splunk" in options:
        value = options["splunk"]
        wanted = value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
        return ["kepler-splunk"] if wanted else []
    try:
        from kepler.api import SinkSpec, find_record, load_config

        chosen = load_config().section("serve").prediction_sink()
        record = find_record(SinkSpec, chosen[0]) if chosen else None
    except Exception:
        return []
    return [record.distribution] if record is not None and record.distribution else []


@dataclass
class Plan:
    """What a build context holds, decided before anything is written."""

    manifest: Any
    python: str
    base_image: str
    wheels_mode: str
    reasons: dict[str, str]
    locked: dict[str, Locked]

    @property
    def missing(self) -> list[str]:
        return [e.name for e in self.locked.values() if e.source == "missing"]

    @property
    def version_label(self) -> str:
        version = self.manifest.version
        return f"version {version}" if version is not None else "(unsaved)"


def _roots(manifest: Any, options: dict[str, Any]) -> tuple[dict[str, str | None],
                                                             dict[str, str]]:
    """The distributions to lock (name -> version or None) and why each is there."""
    roots: dict[str, str | None] = {canonical(n): v for n, v in
                                    manifest.environment.packages.items()}
    reasons = dict.fromkeys(roots, "model")
    for name in [SERVER_DISTRIBUTION, *_log_sink_distributions(options)]:
        roots.setdefault(canonical(name), None)
        reasons.setdefault(canonical(name), "server")
    for name in options.pop("packages", []) or []:
        roots.setdefault(canonical(str(name)), None)
        reasons.setdefault(canonical(str(name)), "asked")
    options.pop("splunk", None)
    return roots, reasons


def plan(model: Path, options: Mapping[str, Any] | None = None) -> Plan:
    """Read and verify the model, check the options, lock what the container installs."""
    from kepler.api import read_manifest, verify_artifact

    options = dict(options or {})
    wheels_mode = str(options.pop("wheels", "local"))
    if wheels_mode not in ("local", "all"):
        raise DeploymentError(f"wheels={wheels_mode!r} is not an option.",
                              hint="wheels=local (Kepler's own packages as wheels, the rest "
                              "from the index) or wheels=all (everything: an offline build).")
    manifest = read_manifest(model)
    verify_artifact(model, manifest)
    python = manifest.environment.python or platform.python_version()
    base_image = str(options.pop("base_image", "") or
                     f"python:{'.'.join(python.split('.')[:2])}-slim")
    roots, reasons = _roots(manifest, options)
    if options:
        raise DeploymentError(f"Unknown build option(s): {', '.join(sorted(options))}.",
                              hint="Options: wheels=local|all, base_image=IMAGE, "
                              "splunk=true|false, packages=[...].")
    if manifest.environment.local_modules:
        raise DeploymentError(
            f"The model needs module(s) no installed distribution provides: "
            f"{', '.join(manifest.environment.local_modules)}.",
            hint="Package your own code (a pyproject.toml), install it, retrain, then build.")
    return Plan(manifest=manifest, python=python, base_image=base_image,
                wheels_mode=wheels_mode, reasons=reasons,
                locked=lock(roots, python=python, reasons=reasons))


def write_wheels(plan: Plan, wheels: Path) -> None:
    """Wheels of what no index provides (and of everything with wheels=all) into ``wheels``;
    each lock entry is marked as installed from its wheel."""
    wheels.mkdir()
    for entry in plan.locked.values():
        dist = _distribution(entry.name)
        if dist is None:
            continue
        if not is_local(dist) and plan.wheels_mode != "all":
            continue
        if entry.version != dist.version:
            raise DeploymentError(
                f"{entry.name} {entry.version} is locked (the model's version), but "
                f"{dist.version} is installed here and no index provides this copy.",
                hint=f"pip install {entry.name}=={entry.version} here, or retrain.")
        entry.wheel = _wheel_of(dist, wheels).name
        entry.source = "wheel"
    (wheels / "README.txt").write_text(
        "Wheels installed by the Dockerfile (--find-links): packages no index provides"
        + (", and with wheels=all every package (an offline build)." if
           plan.wheels_mode == "all" else ".") + "\n")


def lock_text(plan: Plan) -> str:
    """requirements.lock: a header saying what it is for, then one pinned line per package."""
    from . import __version__

    manifest = plan.manifest
    lines = [f"# {LOCK_FILE}: written by kepler-serve {__version__} for {manifest.name} "
             f"{plan.version_label}",
             f"# Python {plan.python}, Linux {platform.machine() or 'x86_64'}. Install exactly "
             f"this: pip install --no-deps --find-links ./{WHEELS} -r {LOCK_FILE}",
             "# The model's own packages (its manifest): "
             + ", ".join(sorted(n for n, r in plan.reasons.items() if r == "model"))]
    for entry in plan.locked.values():
        why = ", ".join(sorted(r for r in entry.reasons if r)) or "asked"
        lines.append(f"{entry.line():<60}  # {why}" if entry.source != "missing" else
                     f"{entry.name}  # not installed here: pip resolves it ({why})")
    return "\n".join(lines) + "\n"


def write_files(plan: Plan, staging: Path) -> None:
    """The lock, Dockerfile, entrypoint, .dockerignore and kepler-build.json."""
    from . import __version__

    manifest = plan.manifest
    (staging / LOCK_FILE).write_text(lock_text(plan))
    tag = manifest.name.lower().replace("_", "-").replace(".", "-")
    (staging / "Dockerfile").write_text(DOCKERFILE.format(
        model=manifest.name, version_label=plan.version_label, serve_version=__version__,
        tag=tag, base_image=plan.base_image, lock=LOCK_FILE, wheels=WHEELS,
        no_index="--no-index " if plan.wheels_mode == "all" else "", model_dir=MODEL,
        entrypoint=ENTRYPOINT, info=INFO_FILE, healthcheck=HEALTHCHECK))
    (staging / ENTRYPOINT).write_text(ENTRYPOINT_CODE.format(serve_version=__version__,
                                                             model_dir=MODEL))
    (staging / ".dockerignore").write_text("**/__pycache__\n")
    info = {
        "model": manifest.name, "version": manifest.version, "python": plan.python,
        "base_image": plan.base_image, "kepler_serve": __version__, "wheels": plan.wheels_mode,
        "packages": {e.name: {"version": e.version, "source": e.source, "wheel": e.wheel,
                              "reasons": e.reasons} for e in plan.locked.values()},
        "not_installed_here": plan.missing, "port": 8080, "health": "/health",
        "ready": "/ready", "entrypoint": ENTRYPOINT,
    }
    (staging / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n")


def build_context(model: Path, out: Path, options: Mapping[str, Any] | None = None) -> Path:
    """Write the build context of the model in artifact folder ``model`` into ``out``: planned
    first, written into a staging folder next to ``out``, then moved into place, so a failed
    build leaves nothing half-written."""
    if out.exists() and any(out.iterdir()):
        raise DeploymentError(f"{out} exists and is not empty.",
                              hint="Choose a new folder for the build context.")
    chosen = plan(model, options)
    staging = Path(tempfile.mkdtemp(prefix=".kepler-build-", dir=out.parent
                                    if out.parent.is_dir() else None))
    try:
        write_wheels(chosen, staging / WHEELS)
        shutil.copytree(model, staging / MODEL)
        write_files(chosen, staging)
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.exists():
            out.rmdir()
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if chosen.missing:
        log.warning("not installed here, so not pinned: %s", ", ".join(chosen.missing))
    return out
