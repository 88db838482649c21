"""The REST API of a model, in process: routes, the generated schema, strict errors, guards."""

from __future__ import annotations

import json
import logging
import re

import pytest
from serve_helpers import client_for, instance


@pytest.fixture
def client(classifier):
    with client_for(classifier) as client:
        yield client


def test_predict_gives_predictions_probabilities_model_and_version(client, classifier):
    rows = [instance(), instance(temperature=80.0, vibration=1.2, pressure=3.0)]
    reply = client.post("/predict", json={"instances": rows})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["model"] == "pump-failure" and body["version"] is None
    assert body["classes"] == [0, 1]
    assert body["predictions"] == classifier.predict(rows).tolist()
    assert body["probabilities"] == classifier.predict_proba(rows).tolist()
    assert reply.headers["x-request-id"]


def test_each_request_gets_its_own_id_and_two_apps_differ(client, classifier):
    import re

    ids = [client.get("/health").headers["x-request-id"] for _ in range(50)]
    ids.append(client.post("/predict", json={"instances": [instance()]}).headers["x-request-id"])
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"[0-9a-f]{16}", i) for i in ids)
    with client_for(classifier) as other:
        assert other.get("/health").headers["x-request-id"][:8] != ids[0][:8]


def test_optional_features_may_be_absent_or_null(client, classifier):
    feature = classifier.schema["flow"]
    assert not feature.required  # the sensor data has gaps in flow
    rows = [instance(flow=None), instance(flow=...)]
    reply = client.post("/predict", json={"instances": rows})
    assert reply.status_code == 200, reply.text
    assert reply.json()["predictions"] == classifier.predict(rows).tolist()


def test_regressor_answers_without_probabilities(regressor):
    with client_for(regressor) as client:
        reply = client.post("/predict", json={"instances": [instance(efficiency=...)]})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert "probabilities" not in body and isinstance(body["predictions"][0], float)


@pytest.mark.parametrize(("change", "where", "kind"), [
    ({"temperature": ...}, ["instances", 0, "temperature"], "missing"),
    ({"temperature": "hot"}, ["instances", 0, "temperature"], "float_type"),
    ({"temperature": True}, ["instances", 0, "temperature"], "float_type"),
    ({"temperature": None}, ["instances", 0, "temperature"], "float_type"),
    ({"temperature": "71.5"}, ["instances", 0, "temperature"], "float_type"),
    ({"temperature": 1e39}, ["instances", 0, "temperature"], "less_than_equal"),
    ({"pump": "pump-99"}, ["instances", 0, "pump"], "literal_error"),
    ({"pump": 3}, ["instances", 0, "pump"], "literal_error"),
    ({"_time": "yesterday"}, ["instances", 0, "_time"], "datetime_parsing"),
    ({"_time": "2400-01-01T00:00:00Z"}, ["instances", 0, "_time"], "value_error"),
    ({"_time": 1700000000}, ["instances", 0, "_time"], "datetime_type"),
    ({"temprature": 61.0}, ["instances", 0, "temprature"], "extra_forbidden"),
])
def test_strict_inputs_refuse_bad_fields_naming_the_field(timed_classifier, change, where, kind):
    """serve.strict_inputs: what training did not show is a 422 (here with a datetime
    feature, _time, that the model really has)."""
    with client_for(timed_classifier, strict_inputs=True) as client:
        assert client.post("/predict", json={"instances": [instance()]}).status_code == 200
        reply = client.post("/predict", json={"instances": [instance(**change)]})
    assert reply.status_code == 422
    [problem] = reply.json()["detail"]
    assert problem["loc"] == where and problem["type"] == kind
    assert set(problem) == {"loc", "msg", "type"}


@pytest.mark.parametrize(("change", "where", "kind"), [
    ({"temperature": ...}, ["instances", 0, "temperature"], "missing"),
    ({"temperature": "hot"}, ["instances", 0, "temperature"], "float_type"),
    ({"temperature": "0x10"}, ["instances", 0, "temperature"], "float_type"),
    ({"temperature": True}, ["instances", 0, "temperature"], "float_type"),
    ({"temperature": 1e39}, ["instances", 0, "temperature"], "less_than_equal"),
    ({"temperature": "1e39"}, ["instances", 0, "temperature"], "less_than_equal"),
    ({"pump": 3}, ["instances", 0, "pump"], "string_type"),
    ({"_time": "yesterday"}, ["instances", 0, "_time"], "datetime_parsing"),
    ({"_time": "2400-01-01T00:00:00Z"}, ["instances", 0, "_time"], "value_error"),
    ({"_time": 1700000000}, ["instances", 0, "_time"], "datetime_type"),
])
def test_lenient_inputs_still_refuse_what_the_model_cannot_read(timed_classifier, change, where,
                                                                 kind):
    with client_for(timed_classifier) as client:
        reply = client.post("/predict", json={"instances": [instance(**change)]})
    assert reply.status_code == 422
    [problem] = reply.json()["detail"]
    assert problem["loc"] == where and problem["type"] == kind


@pytest.mark.parametrize(("body", "kind"), [
    (b'{"instances": [', "json_invalid"),
    (b"", "json_invalid"),
    (b'{"instances": []}', "too_short"),
    (b'{"instances": {}}', "list_type"),
    (b"[1, 2]", "dict_type"),
    (b'{"rows": []}', "missing"),
    (b'{"instances": [1]}', "dict_type"),
])
def test_malformed_bodies_are_422(client, body, kind):
    reply = client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert reply.status_code == 422
    assert kind in [p["type"] for p in reply.json()["detail"]]


@pytest.mark.parametrize("strict", [True, False])
def test_errors_echo_no_input_value(timed_classifier, strict):
    secret = "s3cr3t-value-9f8e7d"
    rows = [instance(pump=secret, temperature=secret, flow=[secret], _time=secret),
            instance(unknown_field=secret)]
    with client_for(timed_classifier, strict_inputs=strict) as client:
        reply = client.post("/predict", json={"instances": rows})
        assert reply.status_code == 422
        assert secret not in reply.text
        # strict: pump (not a category of training) and unknown_field are refused too
        assert len(reply.json()["detail"]) == (5 if strict else 3)
        # the location names the field the client sent (cut to 64 characters), never its value
        long_name = "x" * 500
        reply = client.post("/predict", json={"instances": [instance(**{long_name: "x"})]})
    if strict:
        assert reply.json()["detail"][0]["loc"][-1] == "x" * 64
    else:
        assert reply.status_code == 200


def test_oversized_batch_is_422_and_oversized_body_413(classifier):
    with client_for(classifier, max_batch=3, max_body_bytes=2_000) as client:
        reply = client.post("/predict", json={"instances": [instance()] * 4})
        assert reply.status_code == 422
        assert reply.json()["detail"][0]["type"] == "too_long"
        big = {"instances": [instance()] * 3, "parameters": {"pad": "x" * 3_000}}
        reply = client.post("/predict", json=big)
        assert reply.status_code == 413

        def chunks():  # no Content-Length: the limit applies as the body streams in
            yield b'{"instances": ['
            for _ in range(40):
                yield json.dumps(instance()).encode() + b","
            yield b"{}]}"

        reply = client.post("/predict", content=chunks())
        assert reply.status_code == 413


def test_extra_fields_are_ignored_unless_strict(classifier, sensors):
    """The target and _time (not features of this model) are ignored, as the SDK ignores them;
    strict mode, or extra_fields: forbid alone, refuses them."""
    assert "_time" not in classifier.features
    row = instance(asset_id="P-7", failure=1)
    with client_for(classifier) as client:
        reply = client.post("/predict", json={"instances": [row]})
    assert reply.status_code == 200, reply.text
    assert reply.json()["predictions"] == classifier.predict([row]).tolist()
    for settings in ({"strict_inputs": True}, {"extra_fields": "forbid"}):
        with client_for(classifier, **settings) as client:
            reply = client.post("/predict", json={"instances": [row]})
        assert reply.status_code == 422
        assert {p["loc"][-1] for p in reply.json()["detail"]} == {"_time", "asset_id",
                                                                   "failure"}
    with client_for(classifier, strict_inputs=True, extra_fields="ignore") as client:
        assert client.post("/predict", json={"instances": [row]}).status_code == 200


def test_health_ready_and_metadata(client):
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ready").json()["status"] == "ready"
    metadata = client.get("/metadata").json()
    assert metadata["name"] == "pump-failure" and metadata["task"] == "classification"
    assert {f["name"] for f in metadata["features"]} >= {"temperature", "pump"}
    assert "f1" in metadata["metrics"] and "path" not in metadata
    assert metadata["serving"]["scoring_path"] == "fast"
    assert "identical to the model" in metadata["serving"]["fast_path"]
    assert metadata["lineage"]["rows"] == 600


def test_openapi_request_schema_comes_from_the_feature_schema(client, classifier):
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    instance_schema = schemas["Instance"]
    properties = instance_schema["properties"]
    # lenient: what the model scores is what the document says it takes
    pump = [s for s in properties["pump"]["anyOf"] if s.get("type") != "null"]
    assert pump[0]["anyOf"][0] == {"enum": ["pump-01", "pump-02", "pump-03", "pump-04"]}
    assert pump[0]["anyOf"][1]["type"] == "string"
    temperature = {s["type"]: s for s in properties["temperature"]["anyOf"]}
    assert set(temperature) == {"number", "string", "null"}  # the model imputes a null
    assert re.match(temperature["string"]["pattern"], "71.5")
    assert set(instance_schema["required"]) == {f.name for f in classifier.schema if f.required}
    assert "flow" not in instance_schema["required"]
    assert instance_schema.get("additionalProperties", True) is True
    body = document["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/PredictRequest"}
    example = body["example"]["instances"][0]
    assert client.post("/predict", json={"instances": [example]}).status_code == 200
    infer = document["paths"]["/v2/models/{model_name}/infer"]["post"]
    assert infer["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "InferRequest")
    assert client.get("/docs").status_code == 200


def test_strict_openapi_schema_is_the_training_values(timed_classifier):
    with client_for(timed_classifier, strict_inputs=True) as client:
        document = client.get("/openapi.json").json()
    instance_schema = document["components"]["schemas"]["Instance"]
    properties = instance_schema["properties"]
    assert properties["pump"]["enum"] == ["pump-01", "pump-02", "pump-03", "pump-04"]
    assert properties["temperature"]["type"] == "number"
    assert properties["_time"]["format"] == "date-time"
    assert instance_schema["additionalProperties"] is False


def test_open_inference_protocol(client, classifier):
    name = classifier.name
    assert client.get("/v2/health/live").json() == {"live": True}
    assert client.get("/v2/health/ready").json() == {"ready": True}
    assert client.get("/v2").json()["name"] == "kepler-serve"
    metadata = client.get(f"/v2/models/{name}").json()
    assert {i["name"] for i in metadata["inputs"]} == set(classifier.features)
    assert client.get(f"/v2/models/{name}/ready").json()["ready"] is True
    rows = [instance(), instance(temperature=79.0)]
    tensors = [{"name": feature, "shape": [2], "datatype": "BYTES",
                "data": [r.get(feature) for r in rows]} for feature in classifier.features]
    reply = client.post(f"/v2/models/{name}/infer", json={"id": "req-1", "inputs": tensors})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["id"] == "req-1" and body["model_name"] == name
    outputs = {o["name"]: o for o in body["outputs"]}
    assert outputs["predictions"]["data"] == classifier.predict(rows).tolist()
    assert outputs["predictions"]["datatype"] == "INT64"
    assert outputs["probabilities"]["shape"] == [2, 2]
    assert outputs["probabilities"]["data"] == classifier.predict_proba(rows).ravel().tolist()
    # one [N, F] tensor, columns in the schema's order
    matrix = [[r[f] for f in classifier.features] for r in rows]
    reply = client.post(f"/v2/models/{name}/infer", json={
        "inputs": [{"name": "input-0", "shape": [2, len(classifier.features)],
                    "datatype": "BYTES", "data": matrix}],
        "outputs": [{"name": "predictions"}]})
    assert reply.status_code == 200, reply.text
    assert [o["name"] for o in reply.json()["outputs"]] == ["predictions"]


def test_open_inference_protocol_errors(client, classifier):
    name = classifier.name
    assert client.get("/v2/models/other").status_code == 404
    assert client.post("/v2/models/other/infer", json={}).json()["error"].startswith(
        "This server serves one model")
    tensors = [{"name": "temperature", "shape": [1], "datatype": "FP64", "data": ["hot"]}]
    reply = client.post(f"/v2/models/{name}/infer", json={"inputs": tensors})
    assert reply.status_code == 422
    body = reply.json()
    assert body["error"] and any(p["loc"][:2] == ["inputs", 0] for p in body["detail"])
    bad_shape = [{"name": "temperature", "shape": [2], "datatype": "FP64", "data": [1.0]}]
    assert client.post(f"/v2/models/{name}/infer",
                       json={"inputs": bad_shape}).status_code == 422
    unknown = [{"name": "nope", "shape": [1, 1], "datatype": "FP64", "data": [[1.0]]}]
    assert client.post(f"/v2/models/{name}/infer", json={"inputs": unknown}).status_code == 422


def test_api_key_protects_all_but_health(classifier):
    with client_for(classifier, api_key="k-123456") as client:
        assert client.get("/health").status_code == 200
        assert client.get("/v2/health/ready").status_code == 200
        denied = client.post("/predict", json={"instances": [instance()]})
        assert denied.status_code == 401 and "k-123456" not in denied.text
        assert client.get("/metadata", headers={"x-api-key": "wrong"}).status_code == 401
        assert client.post("/predict", json={"instances": [instance()]},
                           headers={"X-API-Key": "k-123456"}).status_code == 200
        assert client.get("/metadata",
                          headers={"Authorization": "Bearer k-123456"}).status_code == 200


def test_access_log_is_one_json_line_per_request(client, caplog):
    with caplog.at_level(logging.INFO, logger="kepler_serve.access"):
        client.post("/predict", json={"instances": [instance()]},
                    headers={"x-request-id": "abc-1"})
    [line] = [json.loads(r.getMessage()) for r in caplog.records
              if r.name == "kepler_serve.access"]
    assert line["path"] == "/predict" and line["status"] == 200
    assert line["request_id"] == "abc-1" and line["ms"] > 0 and line["bytes_in"] > 0


def test_the_model_path_is_used_when_the_fast_path_is_off(classifier):
    rows = [instance(), instance(flow=None)]
    with client_for(classifier, fast_path=False) as client:
        assert client.get("/metadata").json()["serving"]["scoring_path"] == "model"
        slow = client.post("/predict", json={"instances": rows}).json()
    with client_for(classifier) as client:
        fast = client.post("/predict", json={"instances": rows}).json()
    assert slow == fast


def test_any_framework_is_served_through_its_own_plugin(sensors, tmp_path):
    """A PyTorch model: loaded by kepler-torch's format, scored on the model's own path."""
    pytest.importorskip("kepler_torch")
    import kepler as kp

    data = sensors.drop(columns=["efficiency"]).head(300)
    trained = kp.train.pytorch(data, target="failure", epochs=2)
    model = kp.models.load(trained.save(tmp_path / "torch-model").path)
    rows = [instance(efficiency=...), instance(efficiency=..., temperature=80.0)]
    with client_for(model) as client:
        reply = client.post("/predict", json={"instances": rows})
        serving = client.get("/metadata").json()["serving"]
    assert reply.status_code == 200, reply.text
    assert serving["scoring_path"] == "model" and "not compiled" in serving["fast_path"]
    assert reply.json()["predictions"] == model.predict(rows).tolist()
    assert reply.json()["probabilities"] == model.predict_proba(rows).tolist()
