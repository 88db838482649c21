"""Large all-numeric requests decoded column by column (:mod:`kepler_serve.columnar`): the
records are exactly what pydantic returns for the same body, their matrix holds the same
numbers, and every body that is not plain goes to pydantic (so its answer and its errors are
unchanged)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from kepler_serve.columnar import MIN_ROWS, NumericDecoder
from kepler_serve.inputs import InputError, InputSpec
from kepler_tabular import make_sensor_data
from serve_helpers import client_for

NUMERIC = ["temperature", "pressure", "vibration", "rpm", "efficiency"]
SENSORS = make_sensor_data(rows=600, seed=0)  # the readings conftest's models train on


@pytest.fixture(scope="module")
def numeric_model(tmp_path_factory):
    import kepler as kp

    frame = SENSORS[[*NUMERIC, "failure"]].dropna()
    model = kp.train.random_forest(frame, target="failure", n_estimators=8,
                                   name="pump-numeric")
    return kp.models.load(model.save(tmp_path_factory.mktemp("numeric") / "m").path)


def _rows(count: int, start: int = 0) -> list[dict]:
    frame = SENSORS[NUMERIC].dropna().iloc[start:start + count].astype(float)
    return frame.to_dict("records")


def _body(rows, **top) -> bytes:
    return json.dumps({"instances": rows, **top}).encode()


@pytest.mark.parametrize("strict", [False, True])
def test_a_plain_request_decodes_to_what_pydantic_returns(numeric_model, strict):
    spec = InputSpec(numeric_model.schema, strict=strict)
    assert spec.columnar is not None and spec.columnar.names == tuple(NUMERIC)
    rows = _rows(40)
    rows[3]["rpm"] = 1452  # a JSON integer: pydantic gives a float, so must the decoder
    body = _body(rows, parameters={"note": "x"})
    decoded = spec.columnar.decode(body)
    expected = spec.request.validate_json(body)["instances"]
    assert decoded is not None and decoded.features == tuple(NUMERIC)
    assert list(decoded) == expected
    assert [type(v) for v in decoded[3].values()] == [float] * len(NUMERIC)
    assert decoded.matrix.dtype == np.float64 and decoded.matrix.shape == (40, len(NUMERIC))
    assert decoded.matrix.tolist() == [[row[n] for n in NUMERIC] for row in expected]
    assert spec.parse_predict(body) == expected


@pytest.mark.parametrize("change", [
    lambda rows: rows[5].update(pressure=None),           # a null
    lambda rows: rows[5].update(pressure="4.5"),          # a numeric string (lenient)
    lambda rows: rows[5].update(pressure=True),           # a boolean is not a number
    lambda rows: rows[5].update(extra=1.0),               # an extra field
    lambda rows: rows[5].pop("pressure"),                 # a missing field
    lambda rows: rows[5].update(pressure=[1.0]),          # a nested value
    lambda rows: rows[5].update(pressure=1e39),           # beyond float32
    lambda rows: rows.__setitem__(5, [1.0, 2.0]),         # a record that is not an object
])
def test_anything_but_plain_goes_to_pydantic(numeric_model, change):
    spec = InputSpec(numeric_model.schema)
    rows = _rows(30)
    change(rows)
    body = _body(rows)
    assert spec.columnar.decode(body) is None
    try:
        expected = spec.request.validate_json(body)["instances"]
    except Exception:
        with pytest.raises(InputError):
            spec.parse_predict(body)
    else:
        assert spec.parse_predict(body) == expected


@pytest.mark.parametrize("body", [
    b"{not json", b"[]", b'{"instances": 3}', b'{"rows": []}',
    json.dumps({"instances": [{"temperature": 1.0}] * 20, "other": 1}).encode(),
    json.dumps({"instances": _rows(20), "parameters": [1]}).encode(),
    b'{"instances": [' + b",".join([b'{"temperature": 1e400}'] * 20) + b"]}",
    json.dumps({"instances": _rows(MIN_ROWS - 1)}).encode(),
])
def test_odd_bodies_and_small_requests_go_to_pydantic(numeric_model, body):
    assert InputSpec(numeric_model.schema).columnar.decode(body) is None


def test_a_request_over_max_batch_is_left_to_pydantics_error(numeric_model):
    spec = InputSpec(numeric_model.schema, max_batch=20)
    body = _body(_rows(21))
    assert spec.columnar.decode(body) is None
    with pytest.raises(InputError) as refused:
        spec.parse_predict(body)
    assert "at most 20" in json.dumps(refused.value.errors)


def test_integers_beyond_64_bits_read_as_pydantic_reads_them(numeric_model):
    spec = InputSpec(numeric_model.schema)
    rows = _rows(20)
    rows[2]["rpm"] = 10**29
    body = _body(rows)
    assert list(spec.columnar.decode(body)) == spec.request.validate_json(body)["instances"]


def test_models_with_other_kinds_keep_pydantic(classifier):
    assert NumericDecoder.for_schema(classifier.schema, 100) is None  # categories, a datetime


def test_served_answers_equal_the_model_and_refusals_are_unchanged(numeric_model):
    rows = _rows(120)
    bad = _rows(120)
    bad[7]["vibration"] = "loud"
    with client_for(numeric_model) as client:
        reply = client.post("/predict", json={"instances": rows})
        refused = client.post("/predict", json={"instances": bad})
        counts = client.get("/metadata").json()["serving"]
    assert reply.status_code == 200, reply.text
    assert reply.json()["predictions"] == numeric_model.predict(rows).tolist()
    assert reply.json()["probabilities"] == numeric_model.predict_proba(rows).tolist()
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["instances", 7, "vibration"]
    assert counts["requests"] == 1 and counts["rows"] == 120


def test_a_column_by_column_request_is_logged_with_its_features(numeric_model, kepler_plugin):
    from kepler_serve.app import create_app
    from kepler_serve.config import ServeSettings
    from kepler_serve.predlog import from_settings
    from serve_helpers import MemorySink, asgi_client, memory_plugin

    memory_plugin(kepler_plugin)
    rows = _rows(50)
    options = ServeSettings(log_sink="memory", log_interval=0.01)
    log = from_settings(options, numeric_model)
    with asgi_client(create_app(numeric_model, options, prediction_log=log)) as client:
        assert client.post("/predict", json={"instances": rows}).status_code == 200
    events = [row for frame, _ in MemorySink.written for row in frame.to_dict("records")]
    assert [e["features"] for e in events] == rows
    assert log.stats.sent == 50 and log.stats.dropped == 0


def test_the_shortest_plain_request_still_decodes_and_one_record_is_not_parsed(monkeypatch):
    """The decoder skips bodies too short to hold MIN_ROWS records (every single-record
    request) without parsing them; the shortest body that can hold them still decodes."""
    import kepler_serve.columnar as columnar

    decoder = NumericDecoder(["a", "bb", "ccc"], 100)
    shortest = json.dumps({"instances": [{"a": 0, "bb": 0, "ccc": 0}] * MIN_ROWS},
                          separators=(",", ":")).encode()
    assert decoder.decode(shortest).matrix.shape == (MIN_ROWS, 3)
    parsed = []
    monkeypatch.setattr(columnar.orjson, "loads", lambda body: parsed.append(body) or {})
    assert decoder.decode(json.dumps({"instances": [{"a": 1.0, "bb": 2.0, "ccc": 3.0}]})
                          .encode()) is None
    assert parsed == []
