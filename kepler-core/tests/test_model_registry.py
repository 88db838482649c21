"""The model artifact, the registry, kp.models and 'kepler models' with core alone.

The in-process WidgetPlugin's 'mean' trainer and 'mean-json' format stand in for a framework, so
these tests need no scikit-learn.
"""

from __future__ import annotations

import json
import os
import threading

import kepler as kp
import pytest
from kepler.artifact import read_manifest, write_artifact
from kepler.errors import (
    ArtifactError,
    ArtifactIncompleteError,
    ArtifactTamperedError,
    ModelError,
    ModelFormatNotInstalledError,
    ModelNotFoundError,
)
from kepler.plugins import get_host
from kepler.registry import Registry, default_root
from plugin_examples import MedianPlugin, Subscriber, WidgetPlugin

ROWS = [{"y": 1.0}, {"y": 3.0}]


@pytest.fixture
def widget(kepler_plugin):
    return kepler_plugin(WidgetPlugin(), name="widget")


@pytest.fixture
def project(kepler_home, kepler_cli, tmp_path, monkeypatch):
    assert kepler_cli("init", "plant", "--dir", str(tmp_path)).code == 0
    monkeypatch.chdir(tmp_path / "plant")
    return tmp_path / "plant"


def test_the_registry_lives_in_the_project_state_folder(widget, project):
    model = kp.train.mean(ROWS, target="y", save=True)
    assert model.path == project / ".kepler" / "models" / "y-mean" / "1"
    assert (model.path / "kepler-model.json").is_file() and (model.path / "mean.json").is_file()
    assert model.version == 1 and model.manifest.version == 1


def test_outside_a_project_it_lives_in_the_user_folder(widget, kepler_home):
    assert default_root() == (kepler_home / "models").resolve()


def test_models_dir_moves_it(widget, project, monkeypatch):
    monkeypatch.setenv("KEPLER_CORE__MODELS_DIR", "shared-models")
    model = kp.train.mean(ROWS, target="y", save=True)
    assert model.path == project / "shared-models" / "y-mean" / "1"


def test_each_save_is_the_next_version_and_saving_twice_is_a_no_op(widget, project):
    first = kp.train.mean(ROWS, target="y").save()
    assert first.save() is first and first.version == 1
    second = kp.train.mean([{"y": 5.0}], target="y").save()
    assert second.version == 2
    assert [e.version for e in kp.models.list("y-mean")] == [1, 2]
    renamed = kp.train.mean(ROWS, target="y").save(name="pumps")
    assert (renamed.name, renamed.version) == ("pumps", 1)


def test_concurrent_saves_get_distinct_versions(widget, project):
    models = [kp.train.mean(ROWS, target="y") for _ in range(6)]
    registry = Registry.default()
    threads = [threading.Thread(target=lambda m=m: registry.save(m.manifest, m.predictor))
               for m in models]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert registry.versions("y-mean") == [1, 2, 3, 4, 5, 6]
    assert [p.name for p in (project / ".kepler/models/y-mean").iterdir()
            if p.name.startswith(".")] == []  # no staging folder left behind


def test_load_by_name_version_alias_or_path(widget, project):
    kp.train.mean(ROWS, target="y", save=True)
    kp.train.mean([{"y": 10.0}], target="y", save=True)
    assert kp.models.load("y-mean").predict([{}]) == [10.0]
    assert kp.models.load("y-mean:1").predict([{}]) == [2.0]
    assert kp.models.load("y-mean", 1).version == 1
    assert kp.models.promote("y-mean", 1, alias="prod") == 1
    assert kp.models.load("y-mean:prod").version == 1
    folder = project / ".kepler/models/y-mean/2"
    assert kp.models.load(str(folder)).predict([{}]) == [10.0]
    assert [e.aliases for e in kp.models.list()] == [("prod",), ()]


def test_missing_names_versions_and_aliases_say_what_exists(widget, project):
    kp.train.mean(ROWS, target="y", save=True)
    with pytest.raises(ModelNotFoundError, match="Did you mean 'y-mean'") as info:
        kp.models.load("y-maen")
    assert "y-mean" in info.value.hint
    with pytest.raises(ModelNotFoundError, match="no version 7") as info:
        kp.models.load("y-mean:7")
    assert info.value.hint == "Versions: 1."
    with pytest.raises(ModelNotFoundError, match="no alias 'prod'"):
        kp.models.load("y-mean:prod")
    with pytest.raises(ModelError, match="Invalid alias"):
        kp.models.promote("y-mean", 1, alias="latest")
    with pytest.raises(ModelError, match="Invalid model name"):
        kp.train.mean(ROWS, target="y").save(name="../escape")


def test_delete_keeps_aliased_versions_unless_forced(widget, project):
    for _ in range(3):
        kp.train.mean(ROWS, target="y", save=True)
    kp.models.promote("y-mean", 2, alias="prod")
    assert kp.models.delete("y-mean", 1) == [1]
    with pytest.raises(ModelError, match=r"alias\(es\) point at them \(prod -> 2\)"):
        kp.models.delete("y-mean:2")
    assert kp.models.delete("y-mean", 2, force=True) == [2]
    assert Registry.default().aliases("y-mean") == {}
    assert kp.models.delete("y-mean") == [3]
    assert not (project / ".kepler/models/y-mean").exists()


def test_a_changed_payload_byte_is_refused(widget, project):
    model = kp.train.mean(ROWS, target="y", save=True)
    payload = model.path / "mean.json"
    payload.write_text(payload.read_text().replace("2.0", "9.0"))
    with pytest.raises(ArtifactTamperedError, match="modified after it was saved.*mean.json"):
        kp.models.load("y-mean")


def test_a_missing_or_unlisted_file_is_refused(widget, project):
    model = kp.train.mean(ROWS, target="y", save=True)
    (model.path / "extra.py").write_text("print('hi')")
    with pytest.raises(ArtifactTamperedError, match="does not list: extra.py"):
        kp.models.load("y-mean")
    (model.path / "extra.py").unlink()
    (model.path / "mean.json").unlink()
    with pytest.raises(ArtifactIncompleteError, match=r"incomplete: mean.json is missing"):
        kp.models.load("y-mean")


def test_unreadable_manifests_are_refused(tmp_path):
    with pytest.raises(ArtifactError, match="is not a Kepler model"):
        kp.models.load(tmp_path)
    (tmp_path / "kepler-model.json").write_text("{not json")
    with pytest.raises(ArtifactError, match="cannot be read as JSON"):
        read_manifest(tmp_path)
    (tmp_path / "kepler-model.json").write_text(json.dumps({"kepler_model_format": 99}))
    with pytest.raises(ArtifactError, match="version 99") as info:
        read_manifest(tmp_path)
    assert "pip install -U kepler-core" in info.value.hint
    (tmp_path / "kepler-model.json").write_text(json.dumps({"name": "x"}))
    with pytest.raises(ArtifactError, match="not a valid Kepler model manifest: task"):
        read_manifest(tmp_path)


def test_a_format_whose_plugin_is_missing_names_what_to_install(widget, project):
    model = kp.train.mean(ROWS, target="y", save=True)
    get_host().unregister("widget")
    with pytest.raises(ModelFormatNotInstalledError) as info:
        kp.models.load("y-mean")
    assert "Model format 'mean-json' is not provided by any installed plugin" in info.value.message
    assert info.value.hint.startswith("pip install 'kepler-widget'")
    assert read_manifest(model.path).metrics == {"mean": 2.0}  # the manifest alone still reads


def test_export_to_a_folder_refuses_to_overwrite(widget, tmp_path):
    model = kp.train.mean(ROWS, target="y")
    model.save(tmp_path / "export")
    assert model.path == tmp_path / "export" and model.version is None
    with pytest.raises(ArtifactError, match="already exists and is not empty"):
        write_artifact(tmp_path / "export", model.manifest, model.predictor)


def test_after_train_carries_the_saved_artifact(widget, project, kepler_plugin):
    subscriber = kepler_plugin(Subscriber(), name="subscriber")
    model = kp.train.mean(ROWS, target="y", save=True)
    [(_, event)] = subscriber.events
    assert event.model is model and event.artifact_path == str(model.path)
    assert (event.model_name, event.version) == ("y-mean", 1)


def test_the_models_cli(widget, project, kepler_cli, tmp_path):
    kp.train.mean(ROWS, target="y", score=2.0, save=True)
    kp.train.mean(ROWS, target="y", score=1.0, save=True)
    listing = kepler_cli("models", "list")
    assert listing.code == 0, listing.err
    assert "y-mean" in listing.out and "rmse=1" in listing.out
    data = json.loads(kepler_cli("models", "list", "--json").out)
    assert [m["version"] for m in data["models"]] == [1, 2]
    show = kepler_cli("models", "show", "y-mean:1")
    assert show.code == 0 and "regression" in show.out and "mean-json" in show.out
    assert json.loads(kepler_cli("models", "show", "y-mean", "--json").out)["version"] == 2
    assert kepler_cli("models", "promote", "y-mean", "1", "--alias", "prod").out \
        == "y-mean:prod -> version 1\n"
    refused = kepler_cli("models", "delete", "y-mean:1", "--yes")
    assert refused.code == 1 and "prod -> 1" in refused.err and "--force" in refused.err
    assert kepler_cli("models", "delete", "y-mean:1", "--yes", "--force").code == 0
    missing = kepler_cli("models", "show", "nothing")
    assert missing.code == 1 and "No model named 'nothing'" in missing.err


def test_kepler_train_lists_trainers_and_an_explicit_command_wins(widget, kepler_plugin,
                                                                   kepler_cli, tmp_path):
    kepler_plugin(MedianPlugin(), name="median")
    listing = kepler_cli("train", "--help")
    assert "mean" in listing.out and "Predict the training mean." in listing.out
    assert "Median, with its own options." in listing.out
    explicit = kepler_cli("train", "median", "--data", "rows.csv")
    assert explicit.out == "explicit median command, data=rows.csv\n"
    generic = kepler_cli("train", "mean", "--help")
    assert "--target" in generic.out and "--param KEY=VALUE" in generic.out


def test_kepler_train_runs_a_trainer_on_a_connectors_data(widget, project, kepler_cli,
                                                         kepler_plugin):
    from test_model_history import Rows

    kepler_plugin(Rows(), name="rows")  # files are read by kepler-tabular's connector: its tests
    result = kepler_cli("train", "mean", "--connector", "rows", "--query", "all", "--target",
                        "y", "--name", "pumps", "--param", "alpha=0.5", "--param", "note=hello")
    assert result.code == 0, result.err
    assert "Saved as pumps version 1" in result.out
    model = kp.models.load("pumps")
    assert (model.manifest.params["alpha"], model.manifest.params["note"]) == (0.5, "hello")
    unknown = kepler_cli("train", "nope", "--data", "rows.csv")
    assert unknown.code == 2 and "No algorithm named 'nope'" in unknown.err
    bad = kepler_cli("train", "mean", "--connector", "rows", "--query", "all", "--param",
                     "no-equals")
    assert bad.code == 2 and "is not KEY=VALUE" in bad.err
    both = kepler_cli("train", "mean", "--query", "all", "--spl", "search x")
    assert both.code == 2 and "Give one query" in both.err


def test_the_models_namespace_lists_its_functions():
    assert {"list", "load", "promote", "delete"} <= set(dir(kp.models))
    assert os.fspath(default_root()).endswith("models")


def test_kepler_train_without_any_trainer_says_what_to_install(kepler_cli, monkeypatch):
    from kepler.plugins import reset

    monkeypatch.setenv("KEPLER_DISABLE_PLUGINS", "sklearn,torch,keras")
    reset()
    result = kepler_cli("train", "--help")
    assert result.code == 0 and "No trainer plugin is installed" in result.out
    missing = kepler_cli("train", "random_forest", "--data", "x.csv")
    assert missing.code == 4 and "kepler-sklearn" in missing.err
