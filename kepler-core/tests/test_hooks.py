"""Every hookspec is documented, has an example, and works end to end through the public API."""

from __future__ import annotations

import inspect
import json
import pathlib

import kepler as kp
import pytest
from kepler.hookspecs import KeplerSpecs
from kepler.plugins import get_host
from kepler.protocols import Connector, Deployer, EnvManager, Sink, Trainer
from kepler.records import (
    RECORD_TYPES,
    ConnectorSpec,
    DeployEvent,
    ExtractEvent,
    PredictionEvent,
    TrainEvent,
)
from plugin_examples import Subscriber, WidgetPlugin

ALL_HOOKS = [name for name in dir(KeplerSpecs) if name.startswith("kepler_")]


KIND_OF_HOOK = {kind.hook: kind for kind in RECORD_TYPES}
EVENTS = (ExtractEvent, TrainEvent, DeployEvent, PredictionEvent)


def test_record_types_and_events_cover_every_hookspec(kepler_home):
    """The known hooks come from pluggy; every one is a record type's, an event's or validate."""
    assert get_host().known_hooks == frozenset(ALL_HOOKS)
    covered = set(KIND_OF_HOOK) | {event.hook for event in EVENTS} | {"kepler_validate"}
    assert covered == set(ALL_HOOKS)


def test_records_of_a_type_are_typed_and_a_hook_name_is_refused(kepler_home):
    host = get_host()
    assert all(isinstance(r, KIND_OF_HOOK["kepler_commands"]) for r in host.records(
        KIND_OF_HOOK["kepler_commands"]))
    with pytest.raises(TypeError):
        host.records("kepler_commands")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        host.fire(object())


@pytest.mark.parametrize("hook", ALL_HOOKS)
def test_every_hookspec_is_documented_with_an_example(hook):
    doc = inspect.getdoc(getattr(KeplerSpecs, hook))
    assert doc and "Example::" in doc and "@hookimpl" in doc


@pytest.mark.parametrize("hook", ALL_HOOKS)
def test_every_hookspec_has_a_test(hook):
    """datasette's rule: a hook nobody tests is a hook nobody can rely on."""
    tests = "".join(p.read_text() for p in pathlib.Path(__file__).parent.glob("test_*.py")
                    if p.name != "test_hooks.py")
    assert f"def test_{hook}" in tests + _this_file_tests()


def _this_file_tests() -> str:
    return pathlib.Path(__file__).read_text()


@pytest.fixture
def widget(kepler_plugin):
    return kepler_plugin(WidgetPlugin(), name="widget")


def _record(hook, name):
    record = get_host().find(KIND_OF_HOOK[hook], name)
    assert record is not None
    assert record.plugin == "widget" and record.distribution == "(in-process)"
    return record


def test_kepler_connectors(widget):
    connector = _record("kepler_connectors", "widget").create(kp.config.load())
    assert isinstance(connector, Connector)
    assert connector.query("search index=x", limit=3) == [
        {"query": "search index=x", "host": "localhost", "limit": 3}]


def test_kepler_trainers(widget):
    assert "mean" in dir(kp.train)
    model = kp.train.mean([{"y": 1.0}, {"y": 3.0}], target="y")
    assert model.predict([{}, {}]) == [2.0, 2.0]
    trainer = _record("kepler_trainers", "mean").create(kp.config.load())
    assert isinstance(trainer, Trainer)
    assert kp.train.mean.__doc__ == "Predict the training mean."


def test_kepler_deployers(widget):
    deployer = _record("kepler_deployers", "memory").create(kp.config.load())
    assert isinstance(deployer, Deployer)
    created = deployer.create("pumps", "pump-model", {})
    assert created.url == "memory://pumps" and deployer.list() == [created]


def test_kepler_env_managers(widget, tmp_path):
    manager = _record("kepler_env_managers", "folder").create(kp.config.load())
    assert isinstance(manager, EnvManager)
    assert manager.create(tmp_path, {}).is_dir()


def test_kepler_sinks(widget):
    sink = _record("kepler_sinks", "list").create(kp.config.load())
    assert isinstance(sink, Sink)
    assert sink.write([1, 2]) == {"written": 2}


def test_kepler_project_templates(widget, kepler_cli, tmp_path):
    result = kepler_cli("init", "plant", "--template", "widget", "--dir", str(tmp_path))
    assert result.code == 0, result.err
    assert (tmp_path / "plant" / "kepler.yml").read_text().startswith("project:")
    assert (tmp_path / "plant" / "logo.bin").read_bytes() == b"\x00\x01"
    listing = kepler_cli("init", "x", "--list-templates")
    assert "widget" in listing.out and "default" in listing.out


def test_kepler_commands(widget, kepler_cli):
    top = kepler_cli("--help")
    assert "hello" in top.out and "Say hello." in top.out
    assert "data" in top.out  # the parent group exists as soon as a plugin adds to it
    assert kepler_cli("hello", "plant").out == "hello plant\n"
    assert kepler_cli("data", "widget", "pumps").out == "hello pumps\n"
    # nested paths, also below a group core owns: kepler secrets rotate widget-key
    assert "rotate" in kepler_cli("secrets", "--help").out
    assert "Rotate the widget key." in kepler_cli("secrets", "rotate", "--help").out
    assert kepler_cli("secrets", "rotate", "widget-key", "x").out == "hello x\n"
    assert kepler_cli("secrets", "list").code == 0


def test_kepler_model_formats(widget, tmp_path):
    spec = _record("kepler_model_formats", "mean-json")
    assert spec.kind == "model format" and spec.install == "kepler-widget"
    model = kp.train.mean([{"y": 1.0}, {"y": 5.0}], target="y")
    model.save(tmp_path / "exported")
    manifest = json.loads((tmp_path / "exported" / "kepler-model.json").read_text())
    assert manifest["format"] == {"name": "mean-json", "distribution": "(in-process)",
                                  "install": "kepler-widget", "options": {"encoding": "json"}}
    loaded = kp.models.load(tmp_path / "exported")  # read back through the format's plugin
    assert loaded.predict([{}, {}, {}]) == [3.0, 3.0, 3.0]


def test_kepler_config_sections(widget, monkeypatch):
    monkeypatch.setenv("KEPLER_WIDGET__PORT", "9999")
    section = kp.config.load().section("widget")
    assert section.port == 9999 and section.host == "localhost"


def test_kepler_sdk_functions(widget):
    assert "double" in dir(kp.data)
    assert kp.data.double(21) == 42


def test_kepler_validate(widget, kepler_cli, monkeypatch):
    ok = kepler_cli("config", "validate")
    assert ok.code == 0 and "widget reachable" in ok.out
    monkeypatch.setenv("KEPLER_WIDGET__HOST", "unreachable")
    failed = kepler_cli("config", "validate")
    assert failed.code == 6
    assert "FAIL" in failed.out and "Set widget.host" in failed.out


@pytest.fixture
def subscriber(kepler_plugin):
    return kepler_plugin(Subscriber(), name="subscriber")


def test_kepler_after_extract(subscriber):
    event = ExtractEvent(connector="splunk", query="search index=pumps", rows=3)
    get_host().fire(event)
    assert subscriber.events == [("extract", event)]


def test_kepler_after_train(subscriber, kepler_plugin):
    kepler_plugin(WidgetPlugin(), name="widget")
    kp.train.mean([{"y": 4.0}], target="y")
    [(kind, event)] = subscriber.events
    assert kind == "train" and isinstance(event, TrainEvent)
    assert event.trainer == "mean" and event.metrics == {"mean": 4.0}


def test_kepler_after_deploy(subscriber):
    event = DeployEvent(target="local", name="pumps", model="pump-model", version="3")
    get_host().fire(event)
    assert subscriber.events == [("deploy", event)]


def test_kepler_after_predictions(subscriber):
    event = PredictionEvent(model="pump-model", version="3", rows=10, latency_ms=1.5)
    get_host().fire(event)
    assert subscriber.events == [("predictions", event)]


def test_a_failing_subscriber_does_not_break_the_others(kepler_plugin, subscriber, caplog):
    class Broken:
        @kp.hookimpl
        def kepler_after_deploy(self, event):
            raise RuntimeError("webhook down")

    kepler_plugin(Broken(), name="broken")
    with caplog.at_level("WARNING", logger="kepler"):
        get_host().fire(DeployEvent(target="t", name="n", model="m"))
    assert len(subscriber.events) == 1
    assert "plugin 'broken' failed in kepler_after_deploy: webhook down" in caplog.text


def test_a_failing_subscriber_raises_in_strict_mode(kepler_plugin, monkeypatch):
    class Broken:
        @kp.hookimpl
        def kepler_after_deploy(self, event):
            raise RuntimeError("webhook down")

    kepler_plugin(Broken(), name="broken")
    monkeypatch.setenv("KEPLER_STRICT_PLUGINS", "1")
    with pytest.raises(RuntimeError, match="webhook down"):
        get_host().fire(DeployEvent(target="t", name="n", model="m"))


def test_unknown_hook_names_are_refused(kepler_plugin):
    class Typo:
        @kp.hookimpl
        def kepler_conectors(self):
            return []

    with pytest.raises(kp.KeplerError, match="unknown hook.*kepler_conectors"):
        kepler_plugin(Typo(), name="typo")
    assert not get_host().pm.has_plugin("typo")


def test_records_conflict_names_both_distributions(kepler_plugin):
    kepler_plugin(WidgetPlugin(), name="widget")
    kepler_plugin(WidgetPlugin(), name="widget2")
    with pytest.raises(kp.KeplerError, match="connector 'widget'.*'widget'.*'widget2'"):
        get_host().find(ConnectorSpec, "widget")
    messages = [c.message for c in get_host().conflicts()]
    assert any("trainer 'mean'" in m for m in messages)
