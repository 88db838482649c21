"""Write the import-linter contracts that keep Kepler's plugin boundaries (``.importlinter``).

Why generated: the contracts name every private module of core and every pair of distributions
that do not declare each other. Written by hand they would go stale the day core gains a module
or a plugin gains a dependency; generated from the pyproject.toml files they cannot. ``nox -s lint``
runs ``python tools/import_contracts.py --check`` (the committed file is current) and then
``lint-imports`` (the code keeps the contracts).

The rules (issue 12):

a. a plugin uses core only through ``kepler.api`` (its tests may also use ``kepler.testing``,
   but tests are outside the import packages, so ``kepler.testing`` is forbidden in ``src``);
b. a plugin imports another Kepler distribution only when it declares it as a dependency
   (``[project] dependencies`` or any ``[project.optional-dependencies]`` extra);
c. and then only that distribution's public API: its top-level package, not its submodules;
d. core imports no plugin at all.

Usage: ``python tools/import_contracts.py`` rewrites the file; ``--check`` exits 1 if it is stale.
Standard library only, so it runs before anything is installed.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / ".importlinter"
CORE = "kepler-core"
CORE_PACKAGE = "kepler"
#: The core modules a plugin may import (kepler.testing is for tests, which are not checked here).
CORE_PUBLIC = {"api"}
_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?")


@dataclass(frozen=True)
class Distribution:
    """One first-party distribution: where it lives, what it ships, which Kepler dists it names."""

    name: str
    path: Path
    #: The folder relative to the repository root, for messages.
    folder: str
    packages: tuple[str, ...]
    #: Kepler distributions named by [project] dependencies, with the extras each asks for.
    requires: dict[str, frozenset[str]]
    #: Kepler distributions named by each [project.optional-dependencies] extra.
    extras: dict[str, dict[str, frozenset[str]]]
    #: The names of everything it requires, in any extra (nox -s plugins looks for torch here).
    requirement_names: frozenset[str] = frozenset()

    @property
    def declared(self) -> set[str]:
        """Every Kepler distribution this one's code may import: required, or through an extra
        other than the test-only ones (those serve its tests, which may use more than its code:
        kepler-serve's tests train scikit-learn models; kepler-serve itself must not import
        kepler-sklearn)."""
        names = set(self.requires)
        for extra, deps in self.extras.items():
            if extra not in TEST_EXTRAS:
                names |= set(deps)
        return names - {self.name}


#: Extras that exist for a distribution's own tests (``nox -s plugins`` installs them).
TEST_EXTRAS = frozenset({"test", "tests"})


def normalize(name: str) -> str:
    """PEP 503 name normalisation, so 'Kepler_Serve' and 'kepler-serve' are one distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_requirement(text: str) -> tuple[str, frozenset[str]]:
    """The normalised name and the extras of a PEP 508 requirement string."""
    match = _REQUIREMENT_NAME.match(text)
    if not match:
        raise ValueError(f"cannot read requirement {text!r}")
    extras = frozenset(e.strip() for e in (match.group(2) or "").split(",") if e.strip())
    return normalize(match.group(1)), extras


def distribution_dirs(root: Path = ROOT) -> list[Path]:
    """kepler-core, kepler-*/ and plugins/*/: every folder with a pyproject.toml."""
    found = {p.parent for p in root.glob("kepler-*/pyproject.toml")}
    found |= {p.parent for p in root.glob("plugins/*/pyproject.toml")}
    return sorted(found, key=lambda p: (p.name != CORE, str(p.relative_to(root))))


def _kepler_deps(requirements: list[str], kepler_names: set[str]) -> dict[str, frozenset[str]]:
    parsed = (parse_requirement(r) for r in requirements)
    return {name: extras for name, extras in parsed if name in kepler_names}


def load_distributions(root: Path = ROOT) -> dict[str, Distribution]:
    """Every first-party distribution by its normalised name, read from its pyproject.toml."""
    raw = {}
    for folder in distribution_dirs(root):
        with (folder / "pyproject.toml").open("rb") as f:
            raw[folder] = tomllib.load(f)
    names = {normalize(data["project"]["name"]) for data in raw.values()}
    dists = {}
    for folder, data in raw.items():
        project = data["project"]
        wheel = data.get("tool", {}).get("hatch", {}).get("build", {}).get("targets", {})
        package_paths = wheel.get("wheel", {}).get("packages", [])
        if not package_paths:
            raise SystemExit(f"{folder}/pyproject.toml: no [tool.hatch.build.targets.wheel] "
                             "packages; the import package cannot be found")
        optional = project.get("optional-dependencies", {})
        dist = Distribution(
            name=normalize(project["name"]),
            path=folder,
            folder=folder.relative_to(root).as_posix(),
            packages=tuple(Path(p).name for p in package_paths),
            requires=_kepler_deps(project.get("dependencies", []), names),
            extras={extra: _kepler_deps(reqs, names) for extra, reqs in optional.items()},
            requirement_names=frozenset(
                parse_requirement(r)[0] for reqs in [project.get("dependencies", []),
                                                     *optional.values()] for r in reqs),
        )
        dists[dist.name] = dist
    return dists


def core_private_modules(core: Distribution) -> list[str]:
    """Every module and subpackage of core but kepler.api (kepler.testing included: src may not)."""
    package_dir = core.path / "src" / CORE_PACKAGE
    names = set()
    for child in package_dir.iterdir():
        if child.is_dir() and (child / "__init__.py").is_file():
            names.add(child.name)
        elif child.suffix == ".py" and child.stem != "__init__":
            names.add(child.stem)
    return [f"{CORE_PACKAGE}.{name}" for name in sorted(names - CORE_PUBLIC)]


def _lines(key: str, values: list[str]) -> list[str]:
    return [f"{key} =", *(f"    {v}" for v in values)]


def _contract(ident: str, name: str, options: list[str]) -> str:
    return "\n".join([f"[importlinter:contract:{ident}]", f"name = {name}", *options]) + "\n"


def _forbidden(ident: str, name: str, sources: list[str], forbidden: list[str],
               guidance: str, *, indirect: bool = True, as_packages: bool = True) -> str:
    options = ["type = forbidden", *_lines("source_modules", sources),
               *_lines("forbidden_modules", forbidden)]
    if indirect:
        # Only a module's own imports count: kepler.api may import core's private modules,
        # and a declared dependency may import what it declares.
        options.append("allow_indirect_imports = true")
    if not as_packages:
        options.append("as_packages = false")
    options.append(f"broken_contract_guidance = {guidance}")
    return _contract(ident, name, options)


def plugin_contracts(dist: Distribution, dists: dict[str, Distribution],
                     private_core: list[str]) -> list[str]:
    """Rules a, b and c for one plugin distribution."""
    sources = list(dist.packages)
    slug = dist.name
    contracts = [
        _forbidden(f"{slug}-core", f"{dist.name} uses core only through kepler.api",
                   sources, private_core,
                   "Import from kepler.api; if it lacks a name, add it there "
                   "(PLUGIN_API_VERSION)."),
        # 'import kepler' / 'from kepler import X' reaches core's lazy top level (kp.data, ...),
        # which is not the plugin API. 'import kepler.api' does not count as importing kepler.
        _forbidden(f"{slug}-core-top", f"{dist.name} does not import the bare kepler package",
                   [*sources, *(f"{p}.**" for p in sources)], [CORE_PACKAGE],
                   "Use 'from kepler.api import ...', not 'import kepler' or 'from kepler import'.",
                   as_packages=False),
    ]
    others = [d for d in dists.values() if d.name not in (dist.name, CORE)]
    undeclared = sorted(p for d in others if d.name not in dist.declared for p in d.packages)
    if undeclared:
        contracts.append(_forbidden(
            f"{slug}-undeclared", f"{dist.name} imports only the Kepler distributions it declares",
            sources, undeclared,
            f"Declare the distribution in {dist.folder}/pyproject.toml "
            "(dependencies or an extra), or do not import it."))
    declared = sorted(p for d in others if d.name in dist.declared for p in d.packages)
    if declared:
        contracts.append(_forbidden(
            f"{slug}-public", f"{dist.name} imports declared distributions only by their "
            "top-level package", sources, [f"{p}.*" for p in declared],
            "Import the name from the distribution's top-level package; if it is not there, "
            "that distribution must export it first."))
    return contracts


def render(dists: dict[str, Distribution]) -> str:
    """The whole .importlinter file."""
    core = dists[CORE]
    plugins = [d for d in dists.values() if d.name != CORE]
    plugin_packages = sorted(p for d in plugins for p in d.packages)
    header = ("# Generated by tools/import_contracts.py from the pyproject.toml files; "
              "do not edit.\n"
              "# Re-run 'python tools/import_contracts.py' after adding a distribution, a core\n"
              "# module or a dependency between distributions. 'nox -s lint' checks both.\n")
    roots = _lines("root_packages", [*core.packages, *plugin_packages])
    parts = [header, "\n".join(["[importlinter]", *roots]) + "\n"]
    parts.append(_forbidden(
        "core-no-plugins", "kepler-core imports no plugin", list(core.packages), plugin_packages,
        "Core reaches plugins only through hooks and records (kepler.api), never by import.",
        indirect=False))
    private_core = core_private_modules(core)
    for dist in plugins:
        parts.extend(plugin_contracts(dist, dists, private_core))
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if the committed .importlinter is not what would be written")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    output = args.root / OUTPUT.name
    text = render(load_distributions(args.root))
    if args.check:
        current = output.read_text() if output.exists() else ""
        if current != text:
            print(f"{OUTPUT.name} is stale: the distributions, their dependencies or core's "
                  "modules changed. Run 'python tools/import_contracts.py' and commit the result.",
                  file=sys.stderr)
            return 1
        print(f"{OUTPUT.name} is up to date.")
        return 0
    output.write_text(text)
    print(f"wrote {output} ({text.count('[importlinter:contract:')} contracts)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
