"""Serving input as lenient as the model: numeric strings read as numbers, nulls where the model
imputes, unseen categories scored as its encoder scores them (and counted), extra fields ignored;
each refused with ``serve.strict_inputs``. Whatever is let through scores exactly as the SDK
scores it, on the fast path as on the model's own."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from serve_helpers import client_for, instance


def _post(client, rows):
    return client.post("/predict", json={"instances": rows})


def test_numeric_strings_score_as_the_numbers_they_spell(classifier):
    as_numbers = [instance(temperature=71.5, rpm=1452.0), instance(pressure=-0.5)]
    as_strings = [instance(temperature="71.5", rpm=" 1452 "), instance(pressure="-5e-1")]
    with client_for(classifier) as client:
        numbers, strings = _post(client, as_numbers), _post(client, as_strings)
    assert strings.status_code == 200, strings.text
    assert strings.json() == numbers.json()
    assert numbers.json()["probabilities"] == classifier.predict_proba(as_numbers).tolist()


@pytest.mark.parametrize("fast_path", [True, False])
def test_null_in_a_feature_the_model_imputes_scores_as_the_sdk_does(classifier, fast_path):
    assert classifier.schema["temperature"].required  # no training row lacked it
    rows = [instance(temperature=None), instance(temperature=None, pump=None, rpm=None)]
    with client_for(classifier, fast_path=fast_path) as client:
        reply = _post(client, rows)
        serving = client.get("/metadata").json()["serving"]
    assert reply.status_code == 200, reply.text
    assert serving["scoring_path"] == ("fast" if fast_path else "model")
    assert {"temperature", "pump", "rpm", "flow"} <= set(serving["inputs"]["nullable"])
    assert reply.json()["probabilities"] == classifier.predict_proba(rows).tolist()


def test_an_unseen_category_is_scored_as_the_encoder_scores_it_and_counted(classifier, caplog):
    rows = [instance(pump="pump-99"), instance(pump="pump-42", mode="turbo"), instance()]
    with client_for(classifier) as client, \
            caplog.at_level(logging.INFO, logger="kepler_serve.access"):
        reply = _post(client, rows)
        refused = _post(client, [instance(pump="pump-77", temperature="hot")])
        plain = _post(client, [instance()])
        inputs = client.get("/metadata").json()["serving"]["inputs"]
    assert reply.status_code == 200, reply.text
    assert reply.json()["probabilities"] == classifier.predict_proba(rows).tolist()
    assert refused.status_code == 422 and plain.status_code == 200
    # the refused request scored nothing, so counts nothing
    assert inputs["unseen_categories"] == {"pump": 2, "mode": 1}
    assert inputs["unseen_categories_total"] == 3
    assert inputs["open_categories"] == ["mode", "pump"] and not inputs["strict"]
    lines = [json.loads(r.getMessage()) for r in caplog.records
             if r.name == "kepler_serve.access" and "predict" in r.getMessage()]
    assert [line.get("unseen_categories") for line in lines] == [3, None, None]


def test_strict_inputs_refuse_all_of_it(classifier):
    with client_for(classifier, strict_inputs=True) as client:
        assert _post(client, [instance(_time=..., temperature="71.5")]).status_code == 422
        assert _post(client, [instance(_time=..., temperature=None)]).status_code == 422
        assert _post(client, [instance(_time=..., pump="pump-99")]).status_code == 422
        assert _post(client, [instance()]).status_code == 422  # _time: not a feature
        assert _post(client, [instance(_time=...)]).status_code == 200
        inputs = client.get("/metadata").json()["serving"]["inputs"]
    assert inputs["strict"] and inputs["extra_fields"] == "forbid"
    assert inputs["nullable"] == ["flow"] and inputs["open_categories"] == []


def test_open_inference_protocol_is_as_lenient(classifier):
    name = classifier.name
    rows = [instance(temperature="80.5", pump="pump-99"), instance(rpm=None)]
    tensors = [{"name": feature, "shape": [2], "datatype": "BYTES",
                "data": [r.get(feature) for r in rows]} for feature in classifier.features]
    extra = {"name": "_time", "shape": [2], "datatype": "BYTES", "data": ["x", "y"]}
    with client_for(classifier) as client:
        reply = client.post(f"/v2/models/{name}/infer", json={"inputs": [*tensors, extra]})
        assert client.get("/metadata").json()["serving"]["inputs"]["unseen_categories"] == {
            "pump": 1}
    assert reply.status_code == 200, reply.text
    numbers = [{**rows[0], "temperature": 80.5}, rows[1]]
    outputs = {o["name"]: o for o in reply.json()["outputs"]}
    assert outputs["probabilities"]["data"] == classifier.predict_proba(numbers).ravel().tolist()
    with client_for(classifier, strict_inputs=True) as client:
        reply = client.post(f"/v2/models/{name}/infer", json={"inputs": [*tensors, extra]})
    assert reply.status_code == 422


def test_integer_features_take_whole_numeric_strings():
    from kepler.api import Feature, FeatureSchema
    from kepler_serve.inputs import InputError, InputSpec

    schema = FeatureSchema(features=[Feature(name="count", kind="integer", dtype="int64")])
    spec = InputSpec(schema)
    body = {"instances": [{"count": "3"}, {"count": "4.0"}, {"count": 5.0}, {"count": " -2 "}]}
    rows = spec.parse_predict(json.dumps(body).encode())
    assert rows == [{"count": 3}, {"count": 4}, {"count": 5}, {"count": -2}]
    assert all(type(r["count"]) is int for r in rows)
    for bad in ("3.5", "three", True):
        with pytest.raises(InputError):
            spec.parse_predict(json.dumps({"instances": [{"count": bad}]}).encode())
    with pytest.raises(InputError):
        InputSpec(schema, strict=True).parse_predict(b'{"instances": [{"count": "3"}]}')


class _Picky:
    """A model that cannot score a null temperature nor an unseen mode: the probe finds out."""

    task = "regression"
    classes = None
    name = "picky"

    def __init__(self):
        from kepler.api import Feature, FeatureSchema

        self.schema = FeatureSchema(features=[
            Feature(name="temperature", kind="number", dtype="float64", min=0.0, max=1.0),
            Feature(name="pressure", kind="number", dtype="float64", min=0.0, max=1.0),
            Feature(name="mode", kind="category", dtype="str", categories=["a", "b"])])
        self.predictor = self

    def predict(self, rows):
        for row in rows:
            if row["temperature"] is None or row["mode"] not in ("a", "b"):
                raise ValueError("cannot score this")
        return np.zeros(len(rows))


def test_what_the_model_refuses_stays_refused():
    from kepler_serve.inputs import InputSpec
    from kepler_serve.tolerance import probe

    tolerance = probe(_Picky())
    assert tolerance.nullable == {"pressure"} and tolerance.open_categories == frozenset()
    spec = InputSpec(_Picky().schema, tolerance=tolerance)
    ok = spec.parse_predict(b'{"instances": [{"temperature": "0.5", "pressure": null, '
                            b'"mode": "a"}]}')
    assert ok == [{"temperature": 0.5, "pressure": None, "mode": "a"}]
    from kepler_serve.inputs import InputError

    for row in ({"temperature": None, "pressure": 1, "mode": "a"},
                {"temperature": 1, "pressure": 1, "mode": "c"}):
        with pytest.raises(InputError):
            spec.parse_predict(json.dumps({"instances": [row]}).encode())


def test_the_fast_path_is_proved_on_nulls_and_unseen_categories(classifier):
    from kepler_serve.fastpath import compile_model, same, sample_rows
    from kepler_serve.tolerance import probe

    tolerance = probe(classifier)
    fast, note = compile_model(classifier, tolerance=tolerance)
    assert fast is not None, note
    rows = sample_rows(classifier.schema, 100, seed=3, tolerance=tolerance)
    assert any(r["temperature"] is None for r in rows)
    assert any(r["pump"] not in classifier.schema["pump"].categories for r in rows
               if r["pump"] is not None)
    assert same(classifier.predict_proba(rows), fast.predict_proba(rows))


def test_serve_takes_strict_inputs_from_the_flag_and_the_config(kepler_cli, project):
    from kepler_serve.server import settings_from_config

    assert "--strict-inputs" in kepler_cli("serve", "--help").out
    assert settings_from_config().strict_inputs is False
    assert settings_from_config(strict_inputs=True).strict_inputs is True
    (project / "kepler.yml").write_text((project / "kepler.yml").read_text()
                                        + "\nserve:\n  strict_inputs: true\n")
    assert settings_from_config().strict_inputs is True
