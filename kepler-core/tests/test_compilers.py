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


def test_numeric_records_are_a_list_of_dicts_with_their_matrix() -> None:
    """Plugin API 1.8: what a server hands a compiled scorer after decoding column by column;
    a scorer that ignores the type sees plain records."""
    import pickle

    from kepler.api import PLUGIN_API_VERSION, NumericRecords

    rows = [{"a": 1.0, "b": 2.0}, {"a": 3.0, "b": 4.0}]
    # a server's matrix is a float64 NumPy array; core itself does not depend on NumPy
    records = NumericRecords(rows, ["a", "b"], _Matrix([[1.0, 2.0], [3.0, 4.0]]))
    assert isinstance(records, list) and records == rows and len(records) == 2
    assert records.features == ("a", "b") and records.matrix[1, 0] == 3.0
    assert [row["b"] for row in records] == [2.0, 4.0]
    assert pickle.loads(pickle.dumps(list(records))) == rows
    assert tuple(int(part) for part in PLUGIN_API_VERSION.split(".")) >= (1, 8)


class _Matrix(list):
    def __getitem__(self, index):
        if isinstance(index, tuple):
            row, column = index
            return list.__getitem__(self, row)[column]
        return list.__getitem__(self, index)
