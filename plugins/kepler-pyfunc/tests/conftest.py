import json
import os

os.environ.setdefault("MPLBACKEND", "Agg")

import pytest
from kepler_tabular import make_sensor_data
from pyfunc_examples import FEATURES, OLS_CODE

_SENSORS = make_sensor_data(rows=300, seed=0)


@pytest.fixture(autouse=True)
def _isolated(kepler_home):
    return kepler_home


@pytest.fixture
def sensors():
    return _SENSORS.copy()


@pytest.fixture
def ols(tmp_path, sensors):
    """(code path, params JSON path, the statsmodels results) of a fitted OLS."""
    sm = pytest.importorskip("statsmodels.api")
    X = sm.add_constant(sensors[FEATURES])
    results = sm.OLS(sensors["efficiency"], X).fit()
    params = tmp_path / "ols.json"
    params.write_text(json.dumps({"params": results.params.to_dict()}))
    code = tmp_path / "pump_ols.py"
    code.write_text(OLS_CODE)
    return code, params, results


@pytest.fixture
def registered(ols, sensors):
    import kepler as kp

    code, params, _ = ols
    return kp.models.from_code(code, name="pump-efficiency", artifacts={"params": params},
                               requirements=["statsmodels>=0.14"],
                               input_example=sensors[FEATURES].head(5))
