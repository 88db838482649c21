"""Offline building blocks for kepler-env's tests: packages, wheels, sdists, git repositories
and a package index on 127.0.0.1 — all made in temporary folders, nothing from the network.

Packages use a small in-tree PEP 517/660 build backend (``backend-path = ["."]``), so pip and uv
can build them, editable or not, without fetching setuptools or hatchling.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.server
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

BACKEND = '''
"""A minimal in-tree PEP 517/660 build backend (tests only): wheels, editables, sdists."""
import base64, hashlib, os, tarfile, tomllib, zipfile


def _project():
    with open("pyproject.toml", "rb") as handle:
        return tomllib.load(handle)["project"]


def _metadata(p):
    lines = ["Metadata-Version: 2.1", "Name: " + p["name"], "Version: " + p["version"]]
    if "license" in p:
        lines.append("License: " + p["license"]["text"])
    lines += ["Requires-Dist: " + r for r in p.get("dependencies", [])]
    return "\\n".join(lines) + "\\n"


def _digest(data):
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _wheel(directory, files):
    p = _project()
    stem = p["name"].replace("-", "_") + "-" + p["version"]
    files = dict(files)
    files[stem + ".dist-info/METADATA"] = _metadata(p).encode()
    files[stem + ".dist-info/WHEEL"] = (b"Wheel-Version: 1.0\\nGenerator: kbackend\\n"
                                        b"Root-Is-Purelib: true\\nTag: py3-none-any\\n")
    record = [f"{k},sha256={_digest(v)},{len(v)}" for k, v in files.items()]
    record.append(stem + ".dist-info/RECORD,,")
    files[stem + ".dist-info/RECORD"] = ("\\n".join(record) + "\\n").encode()
    name = stem + "-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(directory, name), "w") as archive:
        for key in sorted(files):
            archive.writestr(zipfile.ZipInfo(key, (2020, 1, 1, 0, 0, 0)), files[key])
    return name


def _package():
    return _project()["name"].replace("-", "_")


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    files = {}
    for root, _, names in os.walk(_package()):
        for name in names:
            if name.endswith(".py"):
                path = os.path.join(root, name)
                with open(path, "rb") as handle:
                    files[path.replace(os.sep, "/")] = handle.read()
    return _wheel(wheel_directory, files)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory, {"_" + _package() + "_editable.pth":
                                    (os.path.abspath(".") + "\\n").encode()})


def build_sdist(sdist_directory, config_settings=None):
    p = _project()
    stem = p["name"].replace("-", "_") + "-" + p["version"]
    name = stem + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as archive:
        for item in ("pyproject.toml", "kbackend.py", _package()):
            archive.add(item, arcname=stem + "/" + item)
        info = os.path.join(sdist_directory, "PKG-INFO")
        with open(info, "w") as handle:
            handle.write(_metadata(p))
        archive.add(info, arcname=stem + "/PKG-INFO")
        os.remove(info)
    return name


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []
'''


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def write_project(folder: Path, name: str, version: str, requires: Iterable[str] = (),
                  license_text: str = "MIT", body: str | None = None) -> Path:
    """A source tree ``folder`` for distribution ``name``; its module holds ``VERSION``."""
    package = name.replace("-", "_")
    (folder / package).mkdir(parents=True, exist_ok=True)
    deps = ", ".join(f'"{r}"' for r in requires)
    (folder / "pyproject.toml").write_text(textwrap.dedent(f"""\
        [build-system]
        requires = []
        build-backend = "kbackend"
        backend-path = ["."]

        [project]
        name = "{name}"
        version = "{version}"
        license = {{text = "{license_text}"}}
        dependencies = [{deps}]
        """))
    (folder / "kbackend.py").write_text(BACKEND)
    (folder / package / "__init__.py").write_text(
        body if body is not None else f'VERSION = "{version}"\n')
    return folder


def _wheel_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for key in sorted(files):
            archive.writestr(zipfile.ZipInfo(key, (2020, 1, 1, 0, 0, 0)), files[key])
    return buffer.getvalue()


def write_wheel(folder: Path, name: str, version: str, requires: Iterable[str] = (),
                license_text: str = "MIT") -> Path:
    """A pure-Python wheel ``name-version-py3-none-any.whl`` written straight with zipfile."""
    folder.mkdir(parents=True, exist_ok=True)
    package = name.replace("-", "_")
    stem = f"{package}-{version}"
    metadata = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}",
                f"License: {license_text}", *(f"Requires-Dist: {r}" for r in requires)]
    files = {
        f"{package}/__init__.py": f'VERSION = "{version}"\n'.encode(),
        f"{stem}.dist-info/METADATA": ("\n".join(metadata) + "\n").encode(),
        f"{stem}.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: testkit\n"
                                   b"Root-Is-Purelib: true\nTag: py3-none-any\n",
    }

    def digest(data: bytes) -> str:
        return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()

    record = [f"{k},sha256={digest(v)},{len(v)}" for k, v in files.items()]
    files[f"{stem}.dist-info/RECORD"] = ("\n".join([*record, f"{stem}.dist-info/RECORD,,"])
                                         + "\n").encode()
    path = folder / f"{stem}-py3-none-any.whl"
    path.write_bytes(_wheel_bytes(files))
    return path


def write_sdist(project: Path, out: Path) -> Path:
    """The sdist of a :func:`write_project` tree, built by its own backend (as pip would)."""
    out.mkdir(parents=True, exist_ok=True)
    code = (f"import kbackend; print(kbackend.build_sdist({str(out)!r}))")
    name = subprocess.run(["python3", "-c", code], cwd=project, check=True, capture_output=True,
                          text=True).stdout.strip()
    return out / name


def git(folder: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True, text=True,
                          env=env).stdout.strip()


@dataclass
class GitRepo:
    path: Path
    tag_sha: str
    branch_sha: str

    @property
    def url(self) -> str:
        return self.path.as_uri()


def make_git_repo(folder: Path, name: str = "gitlib") -> GitRepo:
    """A repository whose tag ``v0.1.0`` holds version 0.1.0 and branch ``feature`` 0.2.0.dev1."""
    write_project(folder, name, "0.1.0")
    git(folder, "init", "-q", "-b", "main")
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", "v0.1.0")
    git(folder, "tag", "v0.1.0")
    tag_sha = git(folder, "rev-parse", "HEAD")
    git(folder, "checkout", "-q", "-b", "feature")
    write_project(folder, name, "0.2.0.dev1")
    git(folder, "commit", "-q", "-am", "feature work")
    branch_sha = git(folder, "rev-parse", "HEAD")
    git(folder, "checkout", "-q", "main")
    return GitRepo(folder, tag_sha, branch_sha)


# --- a PEP 503 package index on 127.0.0.1 ------------------------------------------------------


@dataclass
class IndexServer:
    """A simple index of the wheels and sdists in ``folder``; ``auth`` demands Basic auth."""

    folder: Path
    auth: tuple[str, str] | None = None
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/simple/"

    def _projects(self) -> dict[str, list[Path]]:
        found: dict[str, list[Path]] = {}
        for path in sorted(self.folder.iterdir()):
            if path.name.endswith((".whl", ".tar.gz")):
                found.setdefault(normalize(path.name.split("-")[0]), []).append(path)
        return found

    def handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def do_HEAD(self) -> None:
                self.answer(body=False)

            def do_GET(self) -> None:
                self.answer(body=True)

            def answer(self, body: bool) -> None:
                header = self.headers.get("Authorization")
                server.requests.append((self.path, header))
                if server.auth is not None:
                    expected = "Basic " + base64.b64encode(
                        ":".join(server.auth).encode()).decode()
                    if header != expected:
                        self.send_response(401)
                        self.send_header("WWW-Authenticate", 'Basic realm="corp"')
                        self.end_headers()
                        return
                projects = server._projects()
                parts = [p for p in self.path.split("?")[0].split("/") if p]
                if parts == ["simple"]:
                    links = "".join(f'<a href="/simple/{n}/">{n}</a>\n' for n in projects)
                    return self._html(links, body)
                if len(parts) == 2 and parts[0] == "simple" and normalize(parts[1]) in projects:
                    links = ""
                    for path in projects[normalize(parts[1])]:
                        sha = hashlib.sha256(path.read_bytes()).hexdigest()
                        links += f'<a href="/files/{path.name}#sha256={sha}">{path.name}</a>\n'
                    return self._html(links, body)
                if len(parts) == 2 and parts[0] == "files" and (server.folder / parts[1]).is_file():
                    data = (server.folder / parts[1]).read_bytes()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    if body:
                        self.wfile.write(data)
                    return
                self.send_response(404)
                self.end_headers()

            def _html(self, links: str, body: bool) -> None:
                data = f"<!DOCTYPE html><html><body>\n{links}</body></html>\n".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if body:
                    self.wfile.write(data)

        return Handler


@contextlib.contextmanager
def serve_index(folder: Path, auth: tuple[str, str] | None = None) -> Iterator[IndexServer]:
    """Serve ``folder`` as a package index on 127.0.0.1 until the block ends."""
    index = IndexServer(folder, auth)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), index.handler())
    index.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()
    try:
        yield index
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def files_containing(root: Path, needle: str) -> list[Path]:
    """Every file under ``root`` whose bytes contain ``needle`` (symlinks not followed)."""
    data = needle.encode()
    found = []
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            if path.is_symlink() or not path.is_file():
                continue
            with contextlib.suppress(OSError):
                if data in path.read_bytes():
                    found.append(path)
    return found


# --- projects and environments --------------------------------------------------------------


def make_project(root: Path, wheelhouse: Path, requirements: str, dev: str | None = None,
                 kepler_yml: str = "", name: str = "plant") -> Path:
    """A project folder with its wheels, kepler.yml (Kepler itself not installed: offline).

    ``kepler_yml`` is appended as it is, inside the ``env:`` section when indented by two.
    """
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(wheelhouse, root / "wheels", dirs_exist_ok=True)
    (root / "kepler.yml").write_text(textwrap.dedent(f"""\
        project: {{name: {name}}}
        default_env: dev
        env:
          install_kepler: false
        """) + kepler_yml)
    header = "--no-index\n--find-links ./wheels\n"
    (root / "requirements.txt").write_text(header + textwrap.dedent(requirements))
    if dev is not None:
        (root / "requirements-dev.txt").write_text(textwrap.dedent(dev))
    return root


def add_custom_lib(project: Path, name: str = "mylib", version: str = "0.3",
                   requires: tuple[str, ...] = ("beta",)) -> Path:
    return write_project(project / "custom-libs" / name, name, version, requires)


def freeze(python: Path) -> list[str]:
    """``pip freeze`` of an environment (Kepler's pip, pointed at it)."""
    out = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "freeze"],
                         check=True, capture_output=True, text=True).stdout
    return out.splitlines()


def installed(python: Path) -> dict[str, str]:
    code = ("import json; from importlib import metadata; print(json.dumps({d.metadata['Name']"
            ".lower(): d.version for d in metadata.distributions()}))")
    return json.loads(subprocess.run([str(python), "-c", code], check=True, capture_output=True,
                                     text=True).stdout)


def pypi_reachable() -> bool:
    try:
        with socket.create_connection(("pypi.org", 443), timeout=3):
            return True
    except OSError:
        return False


needs_pypi = pytest.mark.skipif(not pypi_reachable(), reason="PyPI is not reachable")
