"""kepler-sklearn's plugin module: records only, so listing plugins imports no scikit-learn.

- trainers: every algorithm of :mod:`kepler_sklearn.algorithms` whose library is installed
  (``xgboost`` and ``lightgbm`` appear with their extras);
- SDK functions: ``kp.train.sklearn`` (any estimator) and ``kp.train.compare``;
- model formats: ``skops`` (with a compiled scorer for serving), ``xgboost-ubj``,
  ``lightgbm-text``; each takes tables through kepler-tabular's ``prepare_inputs``;
- config section ``sklearn`` (``trusted_types``).
"""

from __future__ import annotations

from collections.abc import Iterator

from kepler.api import ConfigSectionSpec, ModelFormatSpec, SdkFunctionSpec, TrainerSpec, hookimpl

from .algorithms import ALGORITHMS

#: 1.3: a model format's ``prepare`` (kepler-tabular's) and ``compiled`` (the serving fast path);
#: 1.4: a trainer's ``signature``.
KEPLER_PLUGIN_API = ">=1.4,<2"
#: What every format of this plugin takes: a table checked against the feature schema.
PREPARE = "kepler_tabular:prepare_inputs"
#: The serving fast path of every format here (their predictors are all TabularModels).
COMPILED = "kepler_sklearn.fastpath:compiled_predictor"


@hookimpl
def kepler_trainers() -> Iterator[TrainerSpec]:
    for algorithm in ALGORITHMS.values():
        if algorithm.available():
            yield TrainerSpec(name=algorithm.name, tasks=algorithm.tasks,
                              framework=algorithm.framework, description=algorithm.description,
                              target=f"kepler_sklearn.algorithms:{algorithm.name}",
                              signature="kepler_sklearn.trainers:SklearnTrainer.train")


@hookimpl
def kepler_sdk_functions() -> Iterator[SdkFunctionSpec]:
    yield SdkFunctionSpec(namespace="train", name="sklearn",
                          target="kepler_sklearn.sdk:train_sklearn",
                          description="Train any scikit-learn-compatible estimator.")
    yield SdkFunctionSpec(namespace="train", name="compare",
                          target="kepler_sklearn.compare:compare",
                          description="Train several algorithms in parallel and rank them.")


@hookimpl
def kepler_model_formats() -> Iterator[ModelFormatSpec]:
    yield ModelFormatSpec(name="skops", framework="scikit-learn",
                          save="kepler_sklearn.formats:save_skops",
                          load="kepler_sklearn.formats:load_skops", install="kepler-sklearn",
                          prepare=PREPARE, compiled=COMPILED,
                          description="scikit-learn pipelines with skops (allow-listed types).")
    yield ModelFormatSpec(name="xgboost-ubj", framework="xgboost",
                          save="kepler_sklearn.formats:save_xgboost",
                          load="kepler_sklearn.formats:load_xgboost", prepare=PREPARE,
                          compiled=COMPILED,
                          install="kepler-sklearn[xgboost]",
                          description="XGBoost's native UBJSON, preprocessing with skops.")
    yield ModelFormatSpec(name="lightgbm-text", framework="lightgbm",
                          save="kepler_sklearn.formats:save_lightgbm",
                          load="kepler_sklearn.formats:load_lightgbm", prepare=PREPARE,
                          compiled=COMPILED,
                          install="kepler-sklearn[lightgbm]",
                          description="LightGBM's native text format, preprocessing with skops.")


@hookimpl
def kepler_config_sections() -> Iterator[ConfigSectionSpec]:
    yield ConfigSectionSpec(name="sklearn", target="kepler_sklearn.config:SklearnSettings",
                            description="scikit-learn trainers: extra trusted types for skops.")
