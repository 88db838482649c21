"""The pieces without a subprocess: requirements parsing, the lock format, where Kepler's own
distributions come from, index credentials, poetry's pyproject and the plan mapping."""

from __future__ import annotations

import json
import textwrap
from importlib.metadata import PathDistribution
from pathlib import Path

import pytest
from env_testkit import write_project
from kepler_env.errors import LockError, RequirementsError
from kepler_env.indexes import (
    Index,
    pip_environ,
    poetry_environ,
    redact_text,
    redact_url,
    uv_environ,
)
from kepler_env.kepler_dists import requirement_for
from kepler_env.lockfile import build_lock, read_lock, write_lock
from kepler_env.resolver import parse_report
from kepler_env.sources import digest, logical_lines, read_requirements


def test_requirements_are_read_as_pip_reads_them(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "extra.txt").write_text("delta==2.0\n-e ../custom-libs/x\n")
    req = tmp_path / "requirements.txt"
    req.write_text(textwrap.dedent("""\
        # comment
        --index-url https://pypi.corp.local/simple
        --find-links ./wheels
        pandas[parquet]>=2.1 ; python_version >= "3.10"   # trailing comment
        pre>=1.0rc1
        alpha==1.2 \\
            --hash=sha256:abc
        git+https://github.com/org/lib.git@v0.1.0#egg=lib
        git+ssh://git@git.plant.local/org/private.git@main
        named @ git+https://github.com/org/named.git@1c9e0d
        ./wheels/local-1.0-py3-none-any.whl
        archive @ https://files.example/archive-1.0.tar.gz
        -r sub/extra.txt
        -e ./custom-libs/mylib
        """))
    lines = read_requirements([req], tmp_path)
    summary = [(line.kind, line.name, line.specifier or line.revision) for line in lines]
    assert summary == [
        ("option", None, None), ("option", None, None),
        ("index", "pandas", ">=2.1"), ("index", "pre", ">=1.0rc1"), ("index", "alpha", "==1.2"),
        ("vcs", "lib", "v0.1.0"), ("vcs", None, "main"), ("vcs", "named", "1c9e0d"),
        ("path", None, None), ("url", "archive", None),
        ("index", "delta", "==2.0"), ("editable", None, None), ("editable", None, None)]
    pandas = lines[2]
    assert pandas.extras == ("parquet",) and pandas.marker == 'python_version >= "3.10"'
    assert lines[1].option == ("--find-links", str(tmp_path / "wheels"))
    assert lines[4].line_options == ("--hash=sha256:abc",) and lines[4].lineno == 6
    assert lines[5].url == "git+https://github.com/org/lib.git"
    assert lines[6].url == "git+ssh://git@git.plant.local/org/private.git"
    assert lines[8].path == tmp_path / "wheels" / "local-1.0-py3-none-any.whl"
    assert lines[11].path == tmp_path / "custom-libs" / "x"  # relative to the including file
    assert lines[10].where == "extra.txt line 1"


def test_bad_lines_are_named_with_file_and_line(tmp_path):
    req = tmp_path / "requirements.txt"
    req.write_text("ok==1\nnot a requirement!!\n")
    with pytest.raises(RequirementsError, match=r"requirements.txt:2: 'not a requirement!!'"):
        read_requirements([req], tmp_path)
    req.write_text("--use-feature fast-deps\n")
    with pytest.raises(RequirementsError, match="not supported in requirements files"):
        read_requirements([req], tmp_path)


def test_the_digest_ignores_layout_but_not_content(tmp_path):
    req = tmp_path / "requirements.txt"
    req.write_text("alpha==1.2\nbeta\n")
    first = digest(read_requirements([req], tmp_path))
    req.write_text("# pinned\nalpha==1.2   # why\n\nbeta\n")
    assert digest(read_requirements([req], tmp_path)) == first
    req.write_text("alpha==1.3\nbeta\n")
    assert digest(read_requirements([req], tmp_path)) != first
    assert list(logical_lines("a \\\n  b\n# c\n")) == [(1, "a b")]


REPORT = {
    "environment": {"python_full_version": "3.11.7", "sys_platform": "linux",
                    "platform_machine": "x86_64", "python_version": "3.11"},
    "install": [
        {"metadata": {"name": "alpha", "version": "1.2", "requires_dist": ["beta<2"],
                      "license": "MIT"},
         "download_info": {"url": "https://files.example/alpha-1.2-py3-none-any.whl",
                           "archive_info": {"hashes": {"sha256": "aa"}}},
         "requested": True, "is_direct": False},
        {"metadata": {"name": "beta", "version": "1.5"},
         "download_info": {"url": "https://user:pw@files.example/beta-1.5.whl",
                           "archive_info": {"hash": "sha256=bb"}},
         "requested": False, "is_direct": False},
        {"metadata": {"name": "lib", "version": "0.1.0", "requires_dist": [
            "beta; extra == 'fast'"]}, "requested_extras": ["fast"],
         "download_info": {"url": "https://github.com/org/lib.git",
                           "vcs_info": {"vcs": "git", "commit_id": "c0ffee",
                                        "requested_revision": "v0.1.0"}},
         "requested": True, "is_direct": True},
        {"metadata": {"name": "mylib", "version": "0.3"},
         "download_info": {"url": "PROJECT/custom-libs/mylib", "dir_info": {"editable": True}},
         "requested": True, "is_direct": True},
    ],
}


def test_a_lock_round_trips_and_splits_hashed_from_direct(tmp_path):
    report = json.loads(json.dumps(REPORT).replace("PROJECT", tmp_path.as_uri()))
    req = tmp_path / "requirements.txt"
    req.write_text("--find-links ./wheels\nalpha==1.2\ngit+https://github.com/org/lib.git"
                   "@v0.1.0\n-e ./custom-libs/mylib\n")
    lines = read_requirements([req], tmp_path)
    lock = build_lock(parse_report(report), lines, project=tmp_path, env="prod",
                      digest="sha256:d1", path=tmp_path / "requirements.lock")
    text = write_lock(lock).read_text()
    assert "--find-links ./wheels\n" in text and "user:pw" not in text
    assert "alpha==1.2 \\\n    --hash=sha256:aa\n    # alpha==1.2 · via -r requirements.txt" in text
    assert "beta==1.5 \\\n    --hash=sha256:bb\n    # beta==1.5 · via alpha, lib" in text
    assert "git+https://github.com/org/lib.git@c0ffee\n    # lib==0.1.0" in text
    assert "-e ./custom-libs/mylib\n    # mylib==0.3 · via -r requirements.txt" in text
    again = read_lock(tmp_path / "requirements.lock")
    assert (again.env, again.digest, again.python) == ("prod", "sha256:d1",
                                                        "3.11.7 (linux x86_64)")
    assert [e.name for e in again.hashed] == ["alpha", "beta"]
    assert [(e.name, e.kind, e.commit) for e in again.unhashed] == [
        ("lib", "vcs", "c0ffee"), ("mylib", "editable", None)]
    assert again.requirements_text(again.hashed) == (
        "--find-links ./wheels\nalpha==1.2 --hash=sha256:aa\nbeta==1.5 --hash=sha256:bb\n")


def test_a_hand_edited_lock_is_refused(tmp_path):
    path = tmp_path / "requirements.lock"
    path.write_text("alpha==1.2\n")
    with pytest.raises(LockError, match="was not written by `kepler env lock`"):
        read_lock(path)
    with pytest.raises(LockError, match="kepler env lock"):
        read_lock(tmp_path / "missing.lock")


def _dist(tmp_path: Path, name: str, direct_url: dict | None) -> PathDistribution:
    info = tmp_path / f"{name.replace('-', '_')}-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n")
    if direct_url is not None:
        (info / "direct_url.json").write_text(json.dumps(direct_url))
    return PathDistribution(info)


def test_kepler_is_reinstalled_from_where_it_came(tmp_path):
    src = tmp_path / "src" / "kepler-core"
    src.mkdir(parents=True)
    wheel = tmp_path / "kepler_core-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"")
    cases = {
        "a": ({"url": src.as_uri(), "dir_info": {"editable": True}}, f"-e {src}"),
        "b": ({"url": src.as_uri(), "dir_info": {}}, f"kepler-core @ {src.as_uri()}"),
        "c": ({"url": "https://tok:en@github.com/org/kepler.git", "subdirectory": "kepler-core",
               "vcs_info": {"vcs": "git", "commit_id": "abc123"}},
              "kepler-core @ git+https://github.com/org/kepler.git@abc123"
              "#subdirectory=kepler-core"),
        "d": ({"url": wheel.as_uri(), "archive_info": {}}, f"kepler-core @ {wheel.as_uri()}"),
        "e": (None, "kepler-core==0.1.0"),
    }
    for folder, (direct_url, expected) in cases.items():
        (tmp_path / folder).mkdir()
        assert requirement_for(_dist(tmp_path / folder, "kepler-core", direct_url)) == expected


def test_the_running_monorepo_kepler_is_found_editable():
    from kepler_env.kepler_dists import kepler_requirements

    lines = kepler_requirements(names=["kepler-core", "kepler-env"])
    core = Path(__import__("kepler").__file__).resolve().parents[2]
    assert lines[0] in (f"-e {core}", "kepler-core==" + __import__("kepler").__version__)
    assert len(lines) == 2


def test_index_credentials_go_to_the_tools_environment_only():
    corp = Index(name="corp", url="https://pypi.corp.local/simple/", username="ci bot",
                 password="p@ss:w/rd")
    mirror = Index(name="mirror", url="https://mirror.local/simple/", default=True,
                   password="tok")
    assert corp.authenticated_url == "https://ci%20bot:p%40ss%3Aw%2Frd@pypi.corp.local/simple/"
    assert "p@ss" not in repr(corp)
    assert pip_environ([corp, mirror]) == {
        "PIP_INDEX_URL": "https://__token__:tok@mirror.local/simple/",
        "PIP_EXTRA_INDEX_URL": corp.authenticated_url}
    assert uv_environ([corp])["UV_INDEX"] == corp.authenticated_url
    assert poetry_environ([corp]) == {"POETRY_HTTP_BASIC_CORP_USERNAME": "ci bot",
                                      "POETRY_HTTP_BASIC_CORP_PASSWORD": "p@ss:w/rd"}
    assert redact_url(corp.authenticated_url) == corp.url
    assert redact_url("git+ssh://git@host/org/repo.git") == "git+ssh://git@host/org/repo.git"
    assert redact_text("fetching https://u:secret@h/x failed") == "fetching https://h/x failed"


def test_poetry_pyproject_is_written_from_the_requirements(kepler_home, tmp_path, wheelhouse):
    from kepler_env.managers.poetry import MARKER, render_pyproject
    from kepler_env.plan import plan_for

    root = tmp_path / "p"
    root.mkdir()
    (root / "kepler.yml").write_text(
        "project: {name: p}\nenv:\n  install_kepler: false\n  indexes:\n"
        "    corp: {url: 'https://pypi.corp.local/simple', password: '${env:CORP}'}\n")
    (root / "requirements.txt").write_text(
        "six==1.16.0\npre>=1.0rc1\nrich[jupyter]>=13 ; python_version >= '3.8'\n"
        "lib @ git+https://github.com/org/lib.git@v0.1.0\n-e ./custom-libs/x\n")
    (root / "requirements-dev.txt").write_text("-r requirements.txt\niniconfig==2.0.0\n")
    write_project(root / "custom-libs" / "x", "x", "0.1")
    import os

    os.environ["CORP"] = "t"
    try:
        text = render_pyproject(plan_for(root, env="dev"), "3.11.7")
    finally:
        del os.environ["CORP"]
    assert text.startswith(MARKER)
    assert 'python = ">=3.11,<3.12"\nsix = "==1.16.0"\n' in text
    assert 'pre = { version = ">=1.0rc1", allow-prereleases = true }' in text
    assert ('rich = { version = ">=13", extras = ["jupyter"], markers = '
            '"python_version >= \\"3.8\\"" }') in text
    assert 'lib = { git = "https://github.com/org/lib.git", rev = "v0.1.0" }' in text
    assert 'x = { path = "custom-libs/x", develop = true }' in text  # name from its pyproject
    assert "[tool.poetry.group.dev]\noptional = true" in text
    assert 'iniconfig = "==2.0.0"' in text and text.count("six") == 1
    assert ('[[tool.poetry.source]]\nname = "corp"\nurl = "https://pypi.corp.local/simple/"\n'
            'priority = "supplemental"') in text


def test_info_logs_name_an_embedded_script_but_never_print_it():
    """``kepler env create`` at INFO printed a 40-line script it runs with ``python -c``."""
    import logging
    import sys

    from kepler_env.process import run

    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())

    logger = logging.getLogger("kepler.env")
    handler, level = Keep(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        script = "import sys\n" + "x = 1\n" * 39 + "print('done')\n"
        assert run([sys.executable, "-c", script]).stdout.strip() == "done"
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    [line] = [message for message in seen if message.startswith("running")]
    assert "x = 1" not in line and "(41 lines)" in line and "'import sys…'" in line
