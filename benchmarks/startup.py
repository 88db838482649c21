"""Startup cost of the CLI against bare Python, same machine, same run, interleaved.

Goal (core issue): ``kepler --help`` under 150 ms above ``python -c pass``, with every plugin of
the monorepo installed.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from _report import write_section

RUNS = 25
KEPLER = str(Path(sys.executable).parent / "kepler")
CASES = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "python -c 'import kepler'": [sys.executable, "-c", "import kepler"],
    "kepler --help": [KEPLER, "--help"],
    "kepler plugins list": [KEPLER, "plugins", "list"],
}


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    for cmd in CASES.values():  # warm the OS caches
        wall(cmd)
    samples: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(RUNS):
        for name, cmd in CASES.items():  # interleaved, so noise hits every case alike
            samples[name].append(wall(cmd))
    base = statistics.median(samples["python -c pass"])
    rows = ["| command | median ms | p90 ms | above bare Python (median) |", "|---|---|---|---|"]
    for name, values in samples.items():
        med = statistics.median(values)
        p90 = statistics.quantiles(values, n=10)[-1]
        rows.append(f"| `{name}` | {med * 1000:.0f} | {p90 * 1000:.0f} | "
                    f"+{(med - base) * 1000:.0f} ms ({med / base:.2f}×) |")
    plugins = subprocess.run([KEPLER, "plugins", "list"], capture_output=True, text=True).stdout
    installed = [line.split()[0] for line in plugins.splitlines()[2:] if line.strip()]
    help_extra = (statistics.median(samples["kepler --help"]) - base) * 1000
    verdict = "meets" if help_extra < 150 else "misses"
    body = "\n".join(rows) + (
        f"\n\n{RUNS} interleaved runs each, wall time of the whole process. Plugins installed: "
        f"{', '.join(installed)}.\n`kepler --help` costs {help_extra:.0f} ms above bare Python: "
        f"{verdict} the goal of under 150 ms.\n")
    write_section("startup", "CLI startup", "nox -s bench  (benchmarks/startup.py)", body)
    print(body)


if __name__ == "__main__":
    main()
