"""Fake installed distributions: a ``.dist-info`` folder plus a module, on a sys.path entry.

conda's ``tests/plugins/data`` trick: importlib.metadata sees them exactly as pip-installed ones.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

GOOD_PLUGIN = """
from kepler.hookspecs import hookimpl
from kepler.records import CommandSpec, SdkFunctionSpec
KEPLER_PLUGIN_API = ">=1.0,<2"
import pathlib, os
marker = os.environ.get("KEPLER_TEST_IMPORT_MARKER")
if marker:
    pathlib.Path(marker).write_text(__name__)

@hookimpl
def kepler_sdk_functions():
    yield SdkFunctionSpec(namespace="data", name="from_{name}", target="{module}:fetch")

def fetch():
    return "{name} rows"
"""


def make_dist(
    root: Path, dist: str, entry_name: str, module: str, source: str, version: str = "1.0"
) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[kepler]\n{entry_name} = {module}\n")
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    return root


def good_plugin(root: Path, name: str, dist: str | None = None, api: str = ">=1.0,<2") -> Path:
    module = f"good_{name}_{abs(hash(str(root))) % 10**6}"
    source = GOOD_PLUGIN.replace("{name}", name).replace("{module}", module)
    source = source.replace('">=1.0,<2"', repr(api))
    return make_dist(root, dist or f"kepler-{name}", name, module, source)
