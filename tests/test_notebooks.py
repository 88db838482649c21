"""The notebooks in examples/ run top to bottom in a real kernel (nbclient) against the Splunk
test server; a cell that raises, a magic included, fails the test. Outputs are never committed."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("kepler_splunk_testing")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))


@pytest.fixture
def splunk(splunk_server, monkeypatch):
    """The test server with the examples' data, and Kepler (and so the kernel) pointed at it."""
    import pandas as pd
    from kepler_splunk_testing import generate_sensor_data

    for name, value in {"HOST": splunk_server.host, "PORT": str(splunk_server.port),
                        "SCHEME": splunk_server.scheme, "TOKEN": splunk_server.token,
                        "HEC_URL": splunk_server.hec_url,
                        "HEC_TOKEN": splunk_server.hec_token}.items():
        monkeypatch.setenv(f"KEPLER_SPLUNK__{name}", value)
    end = pd.Timestamp.now(tz="UTC").floor("s")
    splunk_server.add_index("pumps", generate_sensor_data(3_000, end=end))
    splunk_server.add_index("ml_predictions")
    splunk_server.add_index("plant_metrics", metric_points(), datatype="metric")
    return splunk_server


def metric_points():
    start = datetime.now(UTC) - timedelta(hours=6)
    return [{"_time": start + timedelta(minutes=minute), "metric_name": "pump.vibration",
             "_value": 1.0 + minute % 7, "asset_id": f"PUMP-00{minute % 3}"}
            for minute in range(0, 360, 5)]


def execute(notebook, folder: Path):
    client = nbclient.NotebookClient(notebook, timeout=240, kernel_name="python3",
                                     resources={"metadata": {"path": str(folder)}})
    return client.execute(env=dict(os.environ))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_example_notebook_runs_against_the_test_server(path, splunk, tmp_path):
    notebook = nbformat.read(path, as_version=4)
    execute(notebook, tmp_path)
    outputs = [o for c in notebook.cells for o in c.get("outputs", [])]
    assert [o for o in outputs if o.get("output_type") == "error"] == []
    shown = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert "rows from splunk" in shown  # the %%spl summary
    folder = Path(os.environ.get("EXECUTED_NOTEBOOKS_DIR", tmp_path))  # for a look after a run
    nbformat.write(notebook, folder / path.name)


def test_a_failing_magic_fails_the_run(splunk, tmp_path):
    """What nbmake has been seen to miss: the error of a magic must fail the notebook."""
    from nbformat.v4 import new_code_cell, new_notebook

    notebook = new_notebook(cells=[new_code_cell("%load_ext kepler"),
                                   new_code_cell("%%spl earliest=-1h\nindex=pumps | nosuchcmd"),
                                   new_code_cell("reached = True")])
    with pytest.raises(nbclient.exceptions.CellExecutionError) as failed:
        execute(notebook, tmp_path)
    assert "nosuchcmd" in str(failed.value)
    shown = "".join(o.get("traceback", [""])[0] for o in notebook.cells[1].outputs
                    if o.get("output_type") == "error")
    assert "nosuchcmd" in shown and "Traceback" not in shown  # the short form


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_example_notebooks_are_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]
