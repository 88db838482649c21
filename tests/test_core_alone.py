"""``pip install ./kepler-core`` alone gives a working ``kepler`` CLI (no plugin installed)."""

from __future__ import annotations

import os
import subprocess
import venv
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "kepler-core"


def test_kepler_core_alone_is_a_working_cli(tmp_path):
    env_dir = tmp_path / "core-only"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    str(CORE)], check=True, capture_output=True, text=True, timeout=600)
    kepler = str(env_dir / "bin" / "kepler")
    environ = {**{k: v for k, v in os.environ.items() if not k.startswith("KEPLER_")},
               "KEPLER_CONFIG_DIR": str(tmp_path / "home"), "KEPLER_SECRETS_BACKEND": "file"}

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([kepler, *args], cwd=tmp_path, env=environ, input=stdin,
                              capture_output=True, text=True, timeout=120)

    listing = run("plugins", "list")
    assert listing.returncode == 0, listing.stderr
    assert [line.split()[0] for line in listing.stdout.splitlines()[2:]] == ["kepler"]
    assert run("init", "plant").returncode == 0
    requirements = (tmp_path / "plant" / "requirements.txt").read_text()
    assert requirements.strip() == f"kepler-core @ {CORE.as_uri()}"  # installable from here
    assert run("--project", str(tmp_path / "plant"), "config", "show").returncode == 0
    assert run("secrets", "set", "t", stdin="value-123\n").returncode == 0
    missing = subprocess.run([str(python), "-c", "import kepler as kp; kp.data.from_splunk"],
                             env=environ, capture_output=True, text=True)
    # installed from this clone, the hint installs the sibling folder (it may not be published)
    assert missing.returncode == 1 and "pip install '" in missing.stderr
    assert f"pip install '{CORE.parent / 'kepler-splunk'}'" in missing.stderr
