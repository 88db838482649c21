"""The KServe v2 binary tensor extension, with Triton's own ``tritonclient.http`` against a live
server (its default is binary tensors both ways) and in-process for the refusals."""

from __future__ import annotations

import struct
import threading
import time

import numpy as np
import orjson
import pytest
from serve_helpers import client_for, free_port, instance

ROWS = [instance(), instance(temperature=79.0, pump="pump-04")]


@pytest.fixture
def live(classifier):
    """``host:port`` of a real uvicorn server for ``classifier``, in a thread."""
    import uvicorn
    from kepler_serve.app import create_app
    from kepler_serve.config import ServeSettings
    from kepler_serve.server import _Server

    port = free_port()
    config = uvicorn.Config(create_app(classifier, ServeSettings(access_log=False)),
                            host="127.0.0.1", port=port, log_level="warning", loop="asyncio")
    server = _Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the server did not start"
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def _inputs(model, binary: bool):
    import tritonclient.http as http

    tensors = []
    for feature in model.features:
        values = [row[feature] for row in ROWS]
        if isinstance(values[0], str):
            array, datatype = np.array(values, dtype=object), "BYTES"
        else:
            array, datatype = np.array(values, dtype=np.float64), "FP64"
        tensor = http.InferInput(feature, [len(ROWS)], datatype)
        tensor.set_data_from_numpy(array, binary_data=binary)
        tensors.append(tensor)
    return tensors


def test_tritonclient_defaults_are_binary_both_ways(live, classifier):
    pytest.importorskip("tritonclient.http")
    import tritonclient.http as http

    client = http.InferenceServerClient(url=live)
    try:
        assert client.is_server_ready()
        assert "binary_tensor_data" in client.get_server_metadata()["extensions"]
        metadata = client.get_model_metadata(classifier.name)
        assert metadata["name"] == classifier.name
        assert metadata["parameters"]["scoring_path"] == "fast"
        result = client.infer(classifier.name, _inputs(classifier, binary=True),
                              request_id="r-1")
        response = result.get_response()
        assert all("binary_data_size" in o["parameters"] for o in response["outputs"])
        assert response["id"] == "r-1"
        assert result.as_numpy("predictions").tolist() == classifier.predict(ROWS).tolist()
        probabilities = result.as_numpy("probabilities").reshape(len(ROWS), -1)
        np.testing.assert_allclose(probabilities, classifier.predict_proba(ROWS))
    finally:
        client.close()


def test_tritonclient_json_tensors_and_mixed_outputs(live, classifier):
    pytest.importorskip("tritonclient.http")
    import tritonclient.http as http

    client = http.InferenceServerClient(url=live)
    try:
        outputs = [http.InferRequestedOutput("predictions", binary_data=False)]
        result = client.infer(classifier.name, _inputs(classifier, binary=False),
                              outputs=outputs)
        assert result.get_response()["outputs"][0]["data"] == classifier.predict(ROWS).tolist()
        # binary inputs, one output as JSON and one as bytes
        outputs = [http.InferRequestedOutput("predictions", binary_data=False),
                   http.InferRequestedOutput("probabilities", binary_data=True)]
        result = client.infer(classifier.name, _inputs(classifier, binary=True),
                              outputs=outputs)
        assert result.as_numpy("predictions").tolist() == classifier.predict(ROWS).tolist()
        np.testing.assert_allclose(result.as_numpy("probabilities").reshape(len(ROWS), -1),
                                   classifier.predict_proba(ROWS))
    finally:
        client.close()


def _binary_body(model, rows, *, extra: bytes = b"", size_delta: int = 0):
    """A binary-extension body built by hand: the JSON header, then each tensor's bytes."""
    tensors, chunks = [], []
    for feature in model.features:
        values = [row[feature] for row in rows]
        if isinstance(values[0], str):
            raw = b"".join(struct.pack("<I", len(v.encode())) + v.encode() for v in values)
            datatype = "BYTES"
        else:
            raw = np.asarray(values, dtype="<f4").tobytes()
            datatype = "FP32"
        tensors.append({"name": feature, "shape": [len(rows)], "datatype": datatype,
                        "parameters": {"binary_data_size": len(raw)}})
        chunks.append(raw)
    tensors[-1]["parameters"]["binary_data_size"] += size_delta
    header = orjson.dumps({"inputs": tensors, "outputs": [
        {"name": "predictions", "parameters": {"binary_data": True}}]})
    return header + b"".join(chunks) + extra, len(header)


def test_binary_body_in_process_and_its_refusals(classifier):
    name = classifier.name
    url = f"/v2/models/{name}/infer"
    with client_for(classifier) as client:
        body, length = _binary_body(classifier, ROWS)
        reply = client.post(url, content=body,
                            headers={"Inference-Header-Content-Length": str(length)})
        assert reply.status_code == 200, reply.text
        header_length = int(reply.headers["inference-header-content-length"])
        header = orjson.loads(reply.content[:header_length])
        assert header["outputs"][0]["parameters"]["binary_data_size"] == 16
        predictions = np.frombuffer(reply.content[header_length:], dtype="<i8")
        assert predictions.tolist() == classifier.predict(ROWS).tolist()
        refusals = [
            (_binary_body(classifier, ROWS, extra=b"\0")[0], str(length)),  # bytes left over
            (_binary_body(classifier, ROWS, size_delta=4)[0], str(length)),  # size too large
            (_binary_body(classifier, ROWS, size_delta=-1)[0], str(length)),  # part element
            (body, "not-a-number"),
            (body, str(len(body) + 1)),
            (body, None),  # binary sizes without the header
        ]
        for content, header_value in refusals:
            headers = {} if header_value is None else {
                "Inference-Header-Content-Length": header_value}
            reply = client.post(url, content=content, headers=headers)
            assert reply.status_code == 422, (header_value, reply.text)
            assert reply.json()["error"]
        # a tensor without data nor a binary size
        reply = client.post(url, json={"inputs": [
            {"name": "temperature", "shape": [1], "datatype": "FP64"}]})
        assert reply.status_code == 422 and reply.json()["detail"][0]["loc"] == [
            "inputs", 0, "data"]
