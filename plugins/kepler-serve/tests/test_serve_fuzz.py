"""Fuzzing the generated API: whatever a client sends, the server never answers 5xx.

schemathesis derives valid and invalid requests for every operation from the OpenAPI document
(itself generated from the model's feature schema); hypothesis throws arbitrary JSON at the
scoring routes on top.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from serve_helpers import client_for, instance

schemathesis = pytest.importorskip("schemathesis")

HEADERS = {"content-type": "application/json"}
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck),
                derandomize=True)


@pytest.fixture(params=[("classifier", False), ("timed_classifier", True)],
                ids=["lenient", "strict-with-datetime"])
def api_schema(request):
    """The documents of both input modes: lenient (numeric strings, nulls, any category), and
    strict on a model with a datetime feature."""
    from kepler_serve.app import create_app
    from kepler_serve.config import ServeSettings

    fixture, strict = request.param
    model = request.getfixturevalue(fixture)
    app = create_app(model, ServeSettings(max_batch=20, access_log=False, strict_inputs=strict))
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_no_generated_request_gets_a_server_error(api_schema, mode):
    """Every operation of the OpenAPI document, with requests that fit it (they must score)
    and requests that do not (they must be refused), never a 5xx."""
    from schemathesis.checks import not_a_server_error
    from schemathesis.generation.modes import GenerationMode

    statuses: list[int] = []

    @given(case=api_schema.as_strategy(GenerationMode(mode)))
    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck),
              derandomize=True)
    def check(case):
        response = case.call()
        statuses.append(response.status_code)
        case.validate_response(response, checks=[not_a_server_error])

    check()
    assert statuses and max(statuses) < 500
    if mode == "positive":
        assert 200 in statuses  # valid predictions were made, not only refusals


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20)

VALUES = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
          | st.lists(st.integers(), max_size=3)
          | st.sampled_from(["pump-01", "auto", "2026-01-01T00:00:00Z", "1e400", "NaN", "71.5",
                             " -1e3 ", ".5", "1_000", "\u0663", "99999999999999999999999",
                             "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"]))


@pytest.fixture(params=[("classifier", False), ("timed_classifier", False),
                        ("timed_classifier", True)],
                ids=["lenient", "lenient-with-datetime", "strict-with-datetime"])
def client(request):
    fixture, strict = request.param
    model = request.getfixturevalue(fixture)
    with client_for(model, max_batch=20, access_log=False, strict_inputs=strict) as client:
        client.model_name = model.name
        yield client


@given(body=JSON)
@FUZZ
def test_any_json_body_is_answered_without_a_server_error(client, body):
    content = json.dumps(body)  # NaN and Infinity as Python writes them: not JSON, refused
    for path in ("/predict", f"/v2/models/{client.model_name}/infer"):
        reply = client.post(path, content=content, headers=HEADERS)
        assert reply.status_code < 500, (path, reply.text)
        assert reply.status_code in (200, 422)


@given(changes=st.dictionaries(
    st.sampled_from(["_time", "pump", "temperature", "pressure", "vibration", "flow", "rpm",
                     "mode", "efficiency", "extra"]), VALUES, min_size=1, max_size=5))
@FUZZ
def test_any_field_values_are_scored_or_refused_field_by_field(client, changes):
    content = json.dumps({"instances": [instance(**changes)]})
    reply = client.post("/predict", content=content, headers=HEADERS)
    assert reply.status_code in (200, 422), reply.text
    if reply.status_code == 422:
        for problem in reply.json()["detail"]:
            assert problem["loc"][:2] == ["instances", 0]


@given(raw=st.binary(max_size=200))
@FUZZ
def test_any_bytes_are_answered_without_a_server_error(client, raw):
    reply = client.post("/predict", content=raw, headers=HEADERS)
    assert reply.status_code == 422
