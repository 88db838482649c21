"""A statsmodels model from code served over HTTP, deployed locally and batch-scored: the model
server and batch scoring reach it through its model format record alone."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import kepler as kp
import numpy as np
import pandas as pd
import pytest
from pyfunc_examples import FEATURES

pytest.importorskip("kepler_serve", reason="kepler-serve serves the model")


def _client(model):
    from kepler_serve.app import create_app
    from kepler_serve.config import ServeSettings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient
    return TestClient(create_app(model, ServeSettings()))


def test_served_over_http_by_the_model_server(registered, sensors):
    rows = sensors[FEATURES].head(4)
    expected = kp.models.load("pump-efficiency").predict(rows)
    with _client(kp.models.load("pump-efficiency")) as client:
        reply = client.post("/predict", json={"instances": rows.to_dict("records")})
        assert reply.status_code == 200, reply.text
        assert np.allclose(reply.json()["predictions"], expected)
        missing = client.post("/predict", json={"instances": [{"pressure": 1.0}]})
        assert missing.status_code == 422  # the schema inferred from the input example


def test_batch_scored_into_a_file(registered, sensors, tmp_path):
    output = tmp_path / "scored.csv"
    report = kp.deploy.batch_score("pump-efficiency", sensors.head(50), output=output)
    assert report.rows == 50
    scored = pd.read_csv(output)
    expected = registered.predict(sensors.head(50))
    assert np.allclose(scored["prediction"], expected)
    assert set(scored["model"]) == {"pump-efficiency"}


def test_deployed_by_the_local_deployer(registered, sensors, kepler_cli):
    created = kepler_cli("deploy", "pump-efficiency", "--target", "local", "--name", "pump-ols",
                         "--json")
    try:
        assert created.code == 0, created.err
        assert json.loads(created.out)["status"] == "running"
        rows = sensors[FEATURES].head(3)
        answer = kp.deploy.predict("pump-ols", rows)
        assert np.allclose(answer["predictions"], registered.predict(rows))
    finally:
        kp.deploy.delete("pump-ols", target="local")


def test_add_code_on_the_command_line(ols, sensors, tmp_path, kepler_cli):
    code, params, _ = ols
    sensors[FEATURES].head(5).to_csv(tmp_path / "example.csv", index=False)
    result = kepler_cli("models", "add-code", str(code), "--name", "pump-cli",
                        "--artifact", f"params={params}", "--requirement", "statsmodels>=0.14",
                        "--input-example", str(tmp_path / "example.csv"))
    assert result.code == 0, result.err
    assert "Registered pump-cli version 1 (PumpEfficiency, regression)" in result.out
    listing = kepler_cli("models", "list", "--json")
    [entry] = json.loads(listing.out)["models"]
    assert (entry["name"], entry["algorithm"]) == ("pump-cli", "PumpEfficiency")
    shown = kepler_cli("models", "add-code", str(code), "--name", "pump-json", "--json",
                       "--artifact", f"params={params}", "--description", "OLS on pumps",
                       "--input-example", str(tmp_path / "example.csv"))
    assert shown.code == 0, shown.err
    assert json.loads(shown.out)["name"] == "pump-json"
    bad = kepler_cli("models", "add-code", str(code), "--name", "pump-cli",
                     "--artifact", "params", "--input-example", str(tmp_path / "example.csv"))
    assert bad.code != 0 and "KEY=FILE" in bad.err + bad.out
    failing = kepler_cli("models", "add-code", str(code), "--name", "pump-cli",
                         "--requirement", "kepler-no-such-package-xyz",
                         "--input-example", str(tmp_path / "example.csv"))
    assert failing.code != 0 and "pip install" in failing.err + failing.out


def test_the_plugin_module_imports_no_pandas():
    code = ("import sys, kepler_pyfunc.plugin, kepler_pyfunc.cli; "
            "print(sorted(m for m in ('pandas', 'numpy', 'statsmodels') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_a_container_build_locks_the_recorded_requirements(registered):
    from kepler_serve.build import lock_text, plan

    text = lock_text(plan(registered.path))
    assert "statsmodels==" in text and "kepler-pyfunc" in text
