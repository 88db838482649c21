"""What a saved PyTorch model holds, that it loads without pickle (on a CPU), and what loading
refuses."""

from __future__ import annotations

import hashlib
import json
import pickle
import sys

import kepler as kp
import numpy as np
import pytest
import torch
from kepler.api import ArtifactError, ArtifactTamperedError, UnsafeModelError
from safetensors.torch import load_file, save_file
from torch_test_modules import NumpyNet, TinyNet

QUICK = {"epochs": 2, "progress": False}


def _manifest(model):
    return json.loads((model.path / "kepler-model.json").read_text())


def _rehash(model, name):
    """What an attacker who can write the folder does: fix the manifest's hash of ``name``."""
    data = _manifest(model)
    path = model.path / name
    data["files"][name] = {"sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                           "size": path.stat().st_size}
    (model.path / "kepler-model.json").write_text(json.dumps(data))


@pytest.fixture
def no_pickle(monkeypatch):
    """Every way Python or torch could unpickle, made to fail loudly."""

    def refuse(*args, **kwargs):
        raise AssertionError("something unpickled")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    monkeypatch.setattr(torch, "load", refuse)


def test_a_builtin_network_is_saved_as_safetensors_and_config(sensors, project):
    model = kp.train.pytorch(sensors, target="failure", name="pump-torch", **QUICK).save()
    assert model.path == project / ".kepler" / "models" / "pump-torch" / "1"
    assert sorted(p.name for p in model.path.iterdir()) == [
        "config.json", "kepler-model.json", "model.safetensors", "preprocess.skops"]
    data = _manifest(model)
    assert data["format"]["name"] == "torch-safetensors"
    assert data["format"]["install"] == "kepler-torch"
    assert data["format"]["options"]["architecture"] == "mlp"
    for name, entry in data["files"].items():
        assert hashlib.sha256((model.path / name).read_bytes()).hexdigest() == entry["sha256"]
    assert data["environment"]["packages"]["torch"] == torch.__version__
    assert len(data["training"]["history"]["loss"]) == 2
    config = json.loads((model.path / "config.json").read_text())
    assert config["architecture"] == "mlp" and config["params"]["hidden_layers"] == [64, 64]
    assert config["classes"] == [0, 1] and config["in_features"] > 5
    weights = load_file(str(model.path / "model.safetensors"))
    assert set(weights) == set(model.predictor.module.state_dict())


def test_save_load_predict_is_identical_and_runs_no_pickle(sensors, signal, project,
                                                           no_pickle):
    for trained, data in (
            (kp.train.pytorch(sensors, target="failure", **QUICK), sensors),
            (kp.train.pytorch(sensors, target="efficiency", **QUICK), sensors),
            (kp.train.pytorch(signal, target="temperature", model="lstm", hidden_size=8,
                              **QUICK), signal),
            (kp.train.pytorch(sensors, target="failure", model=TinyNet, **QUICK), sensors)):
        trained.save()
        loaded = kp.models.load(trained.name)
        assert loaded.manifest.format.name == trained.manifest.format.name
        assert np.array_equal(loaded.predict(data), trained.predict(data), equal_nan=True)
        if trained.task == "classification":
            assert np.array_equal(loaded.predict_proba(data), trained.predict_proba(data))
        assert loaded.predictor.device == torch.device("cpu")


def test_a_users_module_is_saved_as_torchscript_and_loads_without_its_code(sensors, project,
                                                                           monkeypatch):
    model = kp.train.pytorch(sensors, target="failure", model=TinyNet, **QUICK).save()
    assert sorted(p.name for p in model.path.iterdir()) == [
        "config.json", "kepler-model.json", "module.pt", "preprocess.skops"]
    assert model.manifest.format.options["module"] == "torch_test_modules.TinyNet"
    assert model.manifest.environment.local_modules == []
    expected = model.predict(sensors)
    monkeypatch.setitem(sys.modules, "torch_test_modules", None)  # the class is gone
    loaded = kp.models.load(model.name)
    assert isinstance(loaded.predictor.module, torch.jit.ScriptModule)
    assert np.array_equal(loaded.predict(sensors), expected)


def test_a_module_that_cannot_be_exported_predicts_but_is_not_saved(sensors, project):
    model = kp.train.pytorch(sensors, target="failure", model=NumpyNet, **QUICK)
    assert len(model.predict(sensors.head(4))) == 4
    assert any("cannot be saved" in note for note in model.manifest.training.notes)
    with pytest.raises(UnsafeModelError, match="NumpyNet cannot be saved") as info:
        model.save()
    assert "scriptable" in info.value.hint
    assert kp.models.list() == []


def test_a_changed_weight_byte_is_refused(sensors, project):
    model = kp.train.pytorch(sensors, target="failure", **QUICK).save()
    payload = model.path / "model.safetensors"
    content = bytearray(payload.read_bytes())
    content[-3] ^= 0x01
    payload.write_bytes(bytes(content))
    with pytest.raises(ArtifactTamperedError, match="model.safetensors"):
        kp.models.load(model.name)


@pytest.mark.parametrize("file", ["config.json", "module.pt", "preprocess.skops"])
def test_every_payload_file_is_hashed(file, sensors, project):
    model = kp.train.pytorch(sensors, target="failure", model=TinyNet, **QUICK).save()
    with (model.path / file).open("ab") as handle:
        handle.write(b" ")
    with pytest.raises(ArtifactTamperedError, match=file):
        kp.models.load(model.name)


def test_rehashed_weights_that_do_not_fit_the_config_are_refused(sensors, project):
    model = kp.train.pytorch(sensors, target="failure", **QUICK).save()
    path = model.path / "model.safetensors"
    weights = load_file(str(path))
    weights["net.0.weight"] = torch.zeros(3, 3)
    save_file(weights, str(path))
    _rehash(model, "model.safetensors")
    with pytest.raises(ArtifactError, match="do not fit the mlp network"):
        kp.models.load(model.name)


def test_a_rehashed_config_naming_another_architecture_is_refused(sensors, project):
    model = kp.train.pytorch(sensors, target="failure", **QUICK).save()
    path = model.path / "config.json"
    config = json.loads(path.read_text())
    config["architecture"] = "os.system"
    path.write_text(json.dumps(config))
    _rehash(model, "config.json")
    with pytest.raises(ArtifactError, match="unknown architecture 'os.system'"):
        kp.models.load(model.name)


def test_a_rehashed_pickle_in_place_of_the_torchscript_is_refused(sensors, project,
                                                                  no_pickle):
    model = kp.train.pytorch(sensors, target="failure", model=TinyNet, **QUICK).save()
    path = model.path / "module.pt"
    path.write_bytes(b"\x80\x04cos\nsystem\n(Vecho owned\ntR.")  # a classic pickle payload
    _rehash(model, "module.pt")
    with pytest.raises(ArtifactError, match="not a TorchScript archive"):
        kp.models.load(model.name)


def test_a_gpu_trained_model_is_mapped_to_the_cpu(sensors, project, monkeypatch):
    """Without a GPU here: the readers are asked for CPU tensors whatever the archive says."""
    model = kp.train.pytorch(sensors, target="failure", model=TinyNet, **QUICK).save()
    calls = []
    real_jit_load = torch.jit.load

    def jit_load(path, map_location=None, **kwargs):
        calls.append(map_location)
        return real_jit_load(path, map_location=map_location, **kwargs)

    monkeypatch.setattr(torch.jit, "load", jit_load)
    kp.models.load(model.name)
    assert calls == ["cpu"]
    import kepler_torch.formats as formats
    import safetensors.torch

    devices = []
    real_load_file = safetensors.torch.load_file

    def load_file_spy(path, device="cpu"):
        devices.append(device)
        return real_load_file(path, device=device)

    monkeypatch.setattr(safetensors.torch, "load_file", load_file_spy)
    builtin = kp.train.pytorch(sensors, target="failure", **QUICK).save()
    kp.models.load(builtin.name)
    assert devices == ["cpu"] and formats.WEIGHTS_FILE == "model.safetensors"


def test_loading_onto_a_missing_gpu_says_so(sensors, project):
    model = kp.train.pytorch(sensors, target="failure", **QUICK).save()
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(Exception, match="sees no CUDA GPU"):
        kp.models.load(model.name, device="cuda")
    assert kp.models.load(model.name, device="auto").predictor.device == torch.device("cpu")


def test_comparing_saved_models_reads_manifests_only(sensors, project):
    kp.train.pytorch(sensors, target="failure", **QUICK).save()
    board = kp.models.compare(["failure-mlp"])
    assert board.best.manifest.trainer.framework == "pytorch"
    assert board.best._predictor is None  # no payload was read
