"""Data enters through connector records and leaves through sink records, whoever provides them:
``kepler train --connector/--query``, ``kepler.api.read_data`` and ``write_results`` are generic,
and a default comes from config or is the only one installed."""

from __future__ import annotations

import json
from typing import ClassVar

import pytest
from kepler.api import (
    ConnectorSpec,
    ExtractEvent,
    PluginNotFoundError,
    SinkSpec,
    hookimpl,
    read_data,
    write_results,
)
from plugin_examples import Subscriber, WidgetPlugin

NUMBERS = [{"temp": 1.0}, {"temp": 2.0}, {"temp": 6.0}]


class NumbersConnector:
    """A source answering any query with three rows, remembering what it was asked."""

    asked: ClassVar[list[tuple[str, dict]]] = []

    def __init__(self, config):
        pass

    def query(self, query, **options):
        self.asked.append((query, options))
        return list(NUMBERS)


class NumbersPlugin:
    @hookimpl
    def kepler_connectors(self):
        yield ConnectorSpec(name="numbers", target="test_data_io:NumbersConnector",
                            query_option="numbers-query")

    @hookimpl
    def kepler_sinks(self):
        yield SinkSpec(name="memory", target="test_data_io:MemorySink")


class MemorySink:
    written: ClassVar[list] = []

    def __init__(self, config):
        pass

    def write(self, data, **options):
        self.written.append((list(data), options))
        return {"rows": len(data)}


@pytest.fixture
def numbers(kepler_home, kepler_plugin, monkeypatch):
    monkeypatch.setattr(NumbersConnector, "asked", [])
    monkeypatch.setattr(MemorySink, "written", [])
    kepler_plugin(NumbersPlugin(), name="numbers")
    return kepler_plugin(WidgetPlugin(), name="widget")


def test_read_data_goes_through_the_named_connector_and_fires_after_extract(numbers,
                                                                          kepler_plugin):
    seen = kepler_plugin(Subscriber(), name="subscriber")
    rows = read_data("all temps", connector="numbers", earliest="-1h", latest=None)
    assert rows == NUMBERS
    assert NumbersConnector.asked == [("all temps", {"earliest": "-1h"})]
    [event] = [e for kind, e in seen.events if kind == "extract"]
    assert isinstance(event, ExtractEvent)
    assert (event.connector, event.query, event.rows) == ("numbers", "all temps", 3)


def test_several_connectors_and_none_chosen_is_an_error_that_lists_them(numbers, monkeypatch):
    with pytest.raises(PluginNotFoundError) as info:
        read_data("x")
    assert "numbers" in info.value.message and "widget" in info.value.message
    assert "data.connector" in info.value.hint
    monkeypatch.setenv("KEPLER_DATA__CONNECTOR", "numbers")
    assert read_data("x") == NUMBERS
    with pytest.raises(PluginNotFoundError, match="connector 'nope'"):
        read_data("x", connector="nope")


def test_write_results_goes_through_the_named_sink(numbers, monkeypatch):
    assert write_results(NUMBERS, sink="memory", index="preds") == {"rows": 3}
    assert MemorySink.written == [(NUMBERS, {"index": "preds"})]
    monkeypatch.setenv("KEPLER_RESULTS__SINK", "memory")
    write_results(NUMBERS[:1])
    assert len(MemorySink.written) == 2


def test_kepler_train_reads_through_any_connector(numbers, kepler_cli):
    result = kepler_cli("train", "mean", "--connector", "numbers", "--query", "all temps",
                        "--target", "temp", "--no-save", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["algorithm"] == "mean"
    assert NumbersConnector.asked[0][0] == "all temps"
    shorthand = kepler_cli("train", "mean", "--numbers-query", "short", "--target", "temp",
                           "--no-save", "--json")
    assert shorthand.code == 0, shorthand.err
    assert NumbersConnector.asked[-1][0] == "short"


def test_kepler_train_data_options_are_checked(numbers, kepler_cli):
    neither = kepler_cli("train", "mean", "--target", "temp")
    assert neither.code == 2 and "exactly one of --data FILE or --query TEXT" in neither.err
    twice = kepler_cli("train", "mean", "--query", "a", "--numbers-query", "b",
                       "--target", "temp")
    assert twice.code == 2 and "Give one query" in twice.err
    missing = kepler_cli("train", "mean", "--connector", "historian", "--query", "x",
                         "--target", "temp")
    assert missing.code == 4 and "connector 'historian'" in missing.err


def test_the_sdk_reads_and_writes_through_any_connector_and_sink(numbers):
    import kepler as kp

    assert kp.data.read("q", connector="numbers") == NUMBERS
    assert kp.results.write(NUMBERS, sink="memory") == {"rows": 3}
    assert "read" in dir(kp.data) and "write" in dir(kp.results)
