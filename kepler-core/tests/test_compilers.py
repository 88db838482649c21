"""Compilers (``kepler_compilers``, plugin API 1.7): records a model server asks for a faster
scorer, each with its priority, tolerance and the formats it compiles."""

from __future__ import annotations

import pytest
from kepler.api import CompilerSpec, hookimpl, import_string, records


def compile_model(model):
    """A stand-in compiler: what it returns is checked by the server, not by core."""
    return ("compiled", model)


class TreesPlugin:
    @hookimpl
    def kepler_compilers(self):
        yield CompilerSpec(name="trees", target=f"{__name__}:compile_model", priority=30,
                           tolerance=1e-6, formats=("sklearn",),
                           description="Compiled trees for serving.")


def test_kepler_compilers(kepler_home, kepler_plugin, kepler_cli):
    kepler_plugin(TreesPlugin(), name="trees-plugin")
    [record] = [r for r in records(CompilerSpec) if r.name == "trees"]
    assert (record.priority, record.tolerance, record.formats) == (30, 1e-6, ("sklearn",))
    assert record.plugin == "trees-plugin"
    assert import_string(record.target)("m") == ("compiled", "m")
    listed = kepler_cli("plugins", "info", "trees-plugin")
    assert listed.code == 0, listed.err
    assert "trees" in listed.out and "compiler" in listed.out


def test_a_compiler_needs_a_target():
    with pytest.raises(TypeError):
        CompilerSpec(name="nothing")  # type: ignore[call-arg]
    assert CompilerSpec(name="x", target="m:f").priority == 10  # before the format's own (0)
