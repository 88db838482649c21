"""A model format of the smallest kind, so the tests can save models with chosen metrics and
curves without any framework: ``const-json`` predicts one value, and takes tables through
kepler-tabular's ``prepare_inputs`` as every tabular format does."""

from __future__ import annotations

import json

from kepler.api import (
    FormatInfo,
    Model,
    ModelFormatSpec,
    ModelManifest,
    TargetInfo,
    TrainerInfo,
    TrainerSpec,
    TrainingInfo,
    hookimpl,
)
from kepler_tabular import infer_schema

KEPLER_PLUGIN_API = ">=1.3,<2"


class ConstPredictor:
    def __init__(self, value):
        self.value = value
        self.seen = None

    def predict(self, data):
        self.seen = data
        return [self.value] * len(data)


def save_const(predictor, folder):
    (folder / "const.json").write_text(json.dumps({"value": predictor.value}))
    return {}


def load_const(folder, options, **load_options):
    return ConstPredictor(json.loads((folder / "const.json").read_text())["value"])


class ConstPlugin:
    @hookimpl
    def kepler_model_formats(self):
        yield ModelFormatSpec(name="const-json", save="tabular_examples:save_const",
                              load="tabular_examples:load_const",
                              prepare="kepler_tabular:prepare_inputs")


def const_model(name="pumps", *, task="regression", score=None, history=None, frame=None,
                framework="pure-python"):
    """A model whose main metric is rmse=``score`` (baseline 10), or accuracy for
    classification; ``frame`` gives it a feature schema."""
    if task == "regression":
        metrics = {} if score is None else {"rmse": float(score), "mae": float(score) / 2}
        baseline, main = {"rmse": 10.0, "mae": 5.0}, "rmse" if score is not None else None
    else:
        metrics, baseline, main = {"accuracy": float(score)}, {"accuracy": 0.5}, "accuracy"
    manifest = ModelManifest(
        name=name, task=task, algorithm="const",
        target=TargetInfo(name="y", dtype="float"),
        trainer=TrainerInfo(name="const", plugin="const", framework=framework),
        metrics=metrics, baseline=baseline if score is not None else {}, main_metric=main,
        features=infer_schema(frame) if frame is not None else infer_schema(_empty()),
        training=TrainingInfo(history=history or {}), format=FormatInfo(name="const-json"))
    return Model(manifest, ConstPredictor(1.0))


def _empty():
    import pandas as pd

    return pd.DataFrame()


SEEN: list = []


class ConstTrainer:
    """Predicts the training mean; records the table it was given (for the tests to check)."""

    def __init__(self, config):
        self.config = config

    def train(self, data, *, target=None, name=None, **params):
        from kepler_tabular import describe_data

        SEEN.append(data)
        model = const_model(name or "pumps", score=1.0, frame=data.drop(columns=[target]))
        manifest = model.manifest.model_copy(update={"lineage": describe_data(data)})
        return Model(manifest, ConstPredictor(float(data[target].mean())))


class ConstTrainerPlugin:
    @hookimpl
    def kepler_trainers(self):
        yield TrainerSpec(name="const", tasks=("regression",),
                          target="tabular_examples:ConstTrainer",
                          description="Predict the training mean.")
