"""A long-lived HEC sink (a model server's prediction log) keeps its settings and its HTTP
connections from one write to the next: one TCP connection for many writes, acknowledgements
on each writer's own channel, new connections after the sink is closed."""

from __future__ import annotations

import socket

import pytest
from kepler.api import load_config, sink
from test_splunk_hec import predictions


@pytest.fixture
def hec(splunk):
    splunk.add_index("ml_predictions")
    return splunk


@pytest.fixture
def connections(monkeypatch, hec):
    """The TCP connections opened to the test server, counted."""
    from urllib.parse import urlsplit

    opened: list[tuple[str, int]] = []
    real = socket.create_connection
    port = urlsplit(hec.hec_url).port

    def counting(address, *args, **kwargs):
        if int(address[1]) == port:
            opened.append(address)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", counting)
    return opened


def test_writes_through_one_sink_share_one_connection(hec, connections):
    target = sink("splunk-hec", config=load_config())
    try:
        reports = [target.write(predictions(30), index="ml_predictions", progress=False)
                   for _ in range(4)]
    finally:
        target.close()
    assert all(r.ok and r.sent == 30 for r in reports)
    assert len({r.write_id for r in reports}) == 4
    assert len(hec.hec_events(index="ml_predictions")) == 120
    assert len(connections) == 1


def test_separate_to_splunk_calls_still_open_their_own(hec, connections):
    import kepler as kp

    for _ in range(2):
        assert kp.results.to_splunk(predictions(5), index="ml_predictions", progress=False).ok
    assert len(connections) == 2


def test_acknowledged_writes_poll_on_their_own_channel(hec, monkeypatch):
    token = hec.add_hec_token(name="acked", use_ack=True)
    monkeypatch.setenv("KEPLER_SPLUNK__HEC_TOKEN", token)
    monkeypatch.setenv("KEPLER_SPLUNK__HEC_ACK", "true")
    target = sink("splunk-hec", config=load_config())
    try:
        reports = [target.write(predictions(20), index="ml_predictions", progress=False)
                   for _ in range(2)]
    finally:
        target.close()
    assert all(r.ok and r.acknowledged == 20 for r in reports)
    polls = hec.requests_to(r"collector/ack")
    assert polls and all(p.status == 200 for p in polls)
    assert len(hec.hec_events(index="ml_predictions")) == 40


def test_a_write_after_close_opens_a_new_connection(hec, connections):
    target = sink("splunk-hec", config=load_config())
    assert target.write(predictions(3), index="ml_predictions", progress=False).ok
    target.close()
    assert target.write(predictions(3), index="ml_predictions", progress=False).ok
    target.close()
    assert len(connections) == 2 and len(hec.hec_events(index="ml_predictions")) == 6
