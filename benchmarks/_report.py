"""Writing one benchmark's section of BENCHMARKS.md, leaving the other sections as they are."""

from __future__ import annotations

import platform
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"
HEADER = (
    "# Benchmarks\n\n"
    "Each section is written by `nox -s bench` (the script named in it) and says how it was "
    "measured.\nRatios compare runs made in the same process or the same run, since the machine "
    "is shared and noisy.\n"
)


def machine() -> str:
    import os

    return (f"{platform.machine()}, {os.cpu_count()} CPUs, Python "
            f"{sys.version.split()[0]}, {platform.system()}")


def write_section(key: str, title: str, command: str, body: str) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = (f"<!-- bench:{key} -->\n## {title}\n\n"
               f"Command: `{command}` — {stamp}, {machine()}.\n\n{body.rstrip()}\n"
               f"<!-- /bench:{key} -->")
    text = BENCHMARKS.read_text() if BENCHMARKS.exists() else HEADER
    pattern = re.compile(rf"<!-- bench:{key} -->.*?<!-- /bench:{key} -->", re.S)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else (
        text.rstrip() + "\n\n" + section + "\n")
    BENCHMARKS.write_text(text if text.endswith("\n") else text + "\n")
