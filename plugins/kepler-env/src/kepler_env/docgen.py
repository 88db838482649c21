"""``kepler env doc``: DEPENDENCIES.md — what the environment holds, from where, under which
license, and which requirement pulled each package in.

Read from the installed environment itself (:mod:`kepler_env.inventory`), not from the
requirements, so it documents what actually runs: the source of each distribution comes from its
``direct_url.json`` (git URL and commit, local path, editable) or is an index; the license from
its metadata (License-Expression, License, or the license classifiers); "required by" walks the
``Requires-Dist`` graph down from each top-level requirement. The file carries no date, so it
changes in git only when the environment does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from .inventory import Installed, Inventory
from .managers.base import top_level
from .plan import EnvPlan
from .sources import ReqLine, normalize


def _source(dist: Installed, plan: EnvPlan) -> str:
    source = dist.source
    prefix = "editable " if source.startswith("editable ") else ""
    path = source.removeprefix("editable ")
    if path.startswith("/"):
        shown = plan.relative(Path(path))
        return f"{prefix}local: {shown if shown != path else path}"
    return source


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(plan: EnvPlan, inventory: Inventory, lines: Sequence[ReqLine]) -> str:
    top = top_level(lines, plan.kepler_lines, inventory)
    pulled = inventory.closure(top.roots)
    rows = []
    dists = inventory.project_dists()
    for dist in dists:
        if dist.key in top.labels:
            required = f"{top.labels[dist.key]} (top level)"
        else:
            owners = [o for o in pulled.get(dist.key, []) if normalize(o) != dist.key]
            required = ", ".join(sorted(owners, key=str.lower)) or "nothing (left over)"
        rows.append(f"| {_cell(dist.name)} | {_cell(dist.version)} | {_cell(_source(dist, plan))} "
                    f"| {_cell(dist.license_text)} | {_cell(required)} |")
    licenses = Counter(dist.license_text for dist in dists)
    files = ", ".join(f"`{plan.relative(f)}`" for f in plan.requirement_files)
    python = inventory.environment.get("python_full_version", "?")
    summary = "\n".join(f"| {_cell(name)} | {count} |"
                        for name, count in sorted(licenses.items(), key=lambda i: (-i[1], i[0])))
    return (
        f"# Dependencies of {plan.project_name} ({plan.env})\n\n"
        f"Written by `kepler env doc --env {plan.env}` from the installed environment "
        f"(Python {python}; requirements: {files}). Regenerate it after `kepler env update` or "
        f"`kepler env sync`.\n\n"
        f"{len(dists)} packages.\n\n"
        "| Package | Version | Source | License | Required by |\n"
        "|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        "## Licenses\n\n| License | Packages |\n|---|---|\n" + summary + "\n")


def write_doc(plan: EnvPlan, inventory: Inventory, lines: Sequence[ReqLine],
              output: Path) -> Path:
    output.write_text(render(plan, inventory, lines), encoding="utf-8")
    return output
