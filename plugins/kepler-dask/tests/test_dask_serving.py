"""A model group trained on the cluster, served over HTTP by kepler-serve: each instance is
routed to its group's member; an unknown group is a 422, or goes to the configured fallback."""

from __future__ import annotations

import warnings

import kepler as kp
import pandas as pd
import pytest
from kepler_tabular import make_sensor_data

SENSORS = make_sensor_data(rows=900, seed=5).drop(columns=["failure"])


def _client(model):
    from kepler_serve.app import create_app
    from kepler_serve.config import ServeSettings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient
    return TestClient(create_app(model, ServeSettings()))


def _records(frame):
    frame = frame.drop(columns=["efficiency"])
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()}
            for r in rows]


@pytest.fixture
def group_folder(dask_executor, tmp_path):
    group = kp.train.per_group(SENSORS, by="pump", algorithm="random_forest",
                               target="efficiency", executor=dask_executor, n_estimators=8)
    return group.save(tmp_path / "group").path


def test_a_model_group_is_served_with_routing_by_the_group_field(group_folder):
    model = kp.models.load(group_folder)
    sample = SENSORS.groupby("pump").head(2).reset_index(drop=True)
    with _client(model) as http:
        reply = http.post("/predict", json={"instances": _records(sample)})
        assert reply.status_code == 200, reply.text
        predictions = reply.json()["predictions"]
        for row, predicted in zip(sample.to_dict("records"), predictions, strict=True):
            member = model.predictor.member(row["pump"])
            one = pd.DataFrame([row]).drop(columns=["pump"])
            assert predicted == pytest.approx(float(member.predict(one)[0]))
        unknown = http.post("/predict", json={"instances": [{**_records(sample)[0],
                                                             "pump": "pump-77"}]})
        assert unknown.status_code == 422
        assert "pump" in unknown.text


def test_an_unknown_group_goes_to_the_fallback_member_when_one_is_configured(dask_executor):
    group = kp.train.per_group(SENSORS, by="pump", algorithm="random_forest",
                               target="efficiency", executor=dask_executor, n_estimators=8,
                               fallback="pump-01", save=True)
    model = kp.models.load(group.name)
    record = _records(SENSORS.head(1))[0]
    with _client(model) as http:
        reply = http.post("/predict", json={"instances": [{**record, "pump": "pump-77"},
                                                          {**record, "pump": "pump-01"}]})
    assert reply.status_code == 200, reply.text
    first, second = reply.json()["predictions"]
    assert first == pytest.approx(second)
