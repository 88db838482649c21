"""``kepler env create`` against ``python -m venv`` + ``pip install -r``, same requirements, same
machine, same run (kepler-env issue: the numbers for BENCHMARKS.md).

The requirements are the classification template's ``requirements.txt`` (what ``kepler init
NAME --template classification`` writes; pandas, scikit-learn, joblib and their dependencies), from
PyPI. Kepler's own distributions are left out (``--no-kepler``) so both sides install exactly the
same list. Each side runs once untimed to warm its cache (pip's HTTP/wheel cache, uv's cache),
then ROUNDS interleaved timed runs; the environment is deleted between runs. Reported: medians
and the ratio against plain venv + pip.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _report import write_section

ROUNDS = 3
KEPLER = [sys.executable, "-m", "kepler"]


def wall(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="kepler-bench-env-") as tmp:
        work = Path(tmp)
        subprocess.run([*KEPLER, "init", "bench", "--template", "classification"], cwd=work,
                       check=True, stdout=subprocess.DEVNULL)
        project = work / "bench"
        requirements = [line for line in (project / "requirements.txt").read_text().splitlines()
                        if line and not line.startswith("#")]
        plain = project / ".plain-venv"

        def kepler_uv() -> float:
            took = wall([*KEPLER, "env", "create", "--env", "prod", "--no-kepler",
                         "--manager", "uv"], project)
            subprocess.run([*KEPLER, "env", "remove", "--env", "prod"], cwd=project, check=True,
                           stdout=subprocess.DEVNULL)
            return took

        def kepler_venv() -> float:
            took = wall([*KEPLER, "env", "create", "--env", "prod", "--no-kepler",
                         "--manager", "venv"], project)
            subprocess.run([*KEPLER, "env", "remove", "--env", "prod"], cwd=project, check=True,
                           stdout=subprocess.DEVNULL)
            return took

        def venv_pip() -> float:
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "venv", str(plain)], check=True)
            subprocess.run([str(plain / "bin" / "python"), "-m", "pip", "install", "-q",
                            "--disable-pip-version-check", "-r", "requirements.txt"],
                           cwd=project, check=True, stdout=subprocess.DEVNULL)
            took = time.perf_counter() - start
            shutil.rmtree(plain)
            return took

        cases = {
            "`python -m venv` + `pip install -r requirements.txt`": venv_pip,
            "`kepler env create` (default manager: uv)": kepler_uv,
            "`kepler env create --manager venv` (venv + pip)": kepler_venv,
        }
        for run in cases.values():  # warm every cache once, untimed
            run()
        samples: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(ROUNDS):
            for name, run in cases.items():
                samples[name].append(run())
    base_name = next(iter(cases))
    base = statistics.median(samples[base_name])
    rows = ["| command | median s | min s | max s | speed-up vs venv + pip |",
            "|---|---|---|---|---|"]
    for name, values in samples.items():
        median = statistics.median(values)
        rows.append(f"| {name} | {median:.1f} | {min(values):.1f} | {max(values):.1f} | "
                    f"{base / median:.2f}× |")
    uv = statistics.median(samples["`kepler env create` (default manager: uv)"])
    body = "\n".join(rows) + (
        f"\n\nRequirements: the classification template's requirements.txt "
        f"({', '.join(requirements)}) from PyPI, warm caches, {ROUNDS} interleaved rounds after "
        f"one untimed warm-up each; the environment deleted between runs; Kepler itself not "
        f"installed (--no-kepler) so both sides install the same list.\n"
        f"`kepler env create` takes {uv:.1f} s against {base:.1f} s for venv + pip: "
        f"{base / uv:.1f}× faster (ratio of medians).\n")
    write_section("env-create", "Environment creation",
                  "nox -s bench  (benchmarks/env_create.py)", body)
    print(body)


if __name__ == "__main__":
    main()
