"""Payload formats of scikit-learn-family models: skops, XGBoost UBJSON, LightGBM text.

None of them unpickles. Core verifies every file's sha256 before these readers run.

``skops``
    ``pipeline.skops``: the whole scikit-learn ``Pipeline`` (preprocessing and estimator) written
    by ``skops.io``. The types skops does not trust by default are recorded at save time and
    checked against kepler-tabular's allow-list (``kepler_tabular.load_skops_file``) at load
    time, with the ``sklearn.trusted_types`` config added; the payload itself is checked to need
    nothing the manifest does not record.
``xgboost-ubj``
    ``preprocess.skops`` (as above) plus ``model.ubj``, XGBoost's own format, loaded into a fresh
    ``XGBClassifier``/``XGBRegressor`` chosen from a fixed table.
``lightgbm-text``
    ``preprocess.skops`` plus ``model.txt``, LightGBM's own text format, loaded as a ``Booster``.

A user's own estimator class (``kp.train.sklearn(MyModel(), ..., trusted=["mypkg.MyModel"])``) is
saved with skops like any other; loading it needs the same name trusted again (``trusted=`` or the
``sklearn.trusted_types`` config), and its code installed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from kepler.api import ArtifactError, ModelFormatNotInstalledError, payload_file
from kepler_tabular import dump_skops, load_skops_file

from .config import configured_trusted_types
from .predictor import LightGBMBooster, TabularModel

PIPELINE_FILE = "pipeline.skops"
PREPROCESS_FILE = "preprocess.skops"
XGBOOST_FILE = "model.ubj"
LIGHTGBM_FILE = "model.txt"
XGBOOST_ESTIMATORS = ("XGBClassifier", "XGBRegressor")


# --- skops, with the allow-list ---------------------------------------------------------------


def _load_skops(path: Path, recorded: Iterable[str], trusted: Iterable[str]) -> Any:
    """kepler-tabular's allow-list, plus what the user trusts here: ``trusted=`` and the
    ``sklearn.trusted_types`` config (so a server loads a user's own estimator too)."""
    return load_skops_file(path, recorded, [*trusted, *configured_trusted_types()])


def _common_options(predictor: TabularModel) -> dict[str, Any]:
    return {"task": predictor.task, "classes": predictor.classes, "encoded": predictor.encoded,
            "preprocess": predictor.preprocess is not None}


def save_skops(predictor: TabularModel, folder: Path) -> dict[str, Any]:
    """Format ``skops``: the whole pipeline in one skops file."""
    recorded = dump_skops(predictor.pipeline(), folder / PIPELINE_FILE, predictor.trusted)
    return {"file": PIPELINE_FILE, "trusted_types": recorded, **_common_options(predictor)}


def load_skops(folder: Path, options: Mapping[str, Any], *, trusted: Iterable[str] = ()
               ) -> TabularModel:
    obj = _load_skops(payload_file(folder, options, "file", PIPELINE_FILE),
                      options.get("trusted_types", []), trusted)
    if options.get("preprocess", True):
        preprocess, estimator = obj.steps[0][1], obj.steps[-1][1]
    else:
        preprocess, estimator = None, obj
    return _predictor(preprocess, estimator, options, trusted)


def _predictor(preprocess: Any, estimator: Any, options: Mapping[str, Any],
               trusted: Iterable[str]) -> TabularModel:
    return TabularModel(preprocess, estimator, task=str(options.get("task")),
                        classes=options.get("classes"), encoded=bool(options.get("encoded")),
                        trusted=tuple(trusted))


def _save_preprocess(predictor: TabularModel, folder: Path) -> dict[str, Any]:
    if predictor.preprocess is None:
        return {}
    recorded = dump_skops(predictor.preprocess, folder / PREPROCESS_FILE, predictor.trusted)
    return {"preprocess_file": PREPROCESS_FILE, "trusted_types": recorded}


def _load_preprocess(folder: Path, options: Mapping[str, Any], trusted: Iterable[str]) -> Any:
    if not options.get("preprocess", True):
        return None
    return _load_skops(payload_file(folder, options, "preprocess_file", PREPROCESS_FILE),
                       options.get("trusted_types", []), trusted)


def _require(library: str) -> Any:
    import importlib

    try:
        return importlib.import_module(library)
    except ImportError as exc:
        raise ModelFormatNotInstalledError(
            f"This model was trained with {library}, which is not installed here.",
            hint=f"pip install 'kepler-sklearn[{library}]'",
        ) from exc


# --- XGBoost ----------------------------------------------------------------------------------


def save_xgboost(predictor: TabularModel, folder: Path) -> dict[str, Any]:
    """Format ``xgboost-ubj``: preprocessing with skops, the booster in XGBoost's UBJSON."""
    estimator = predictor.estimator
    kind = type(estimator).__name__
    if kind not in XGBOOST_ESTIMATORS:
        raise ArtifactError(f"Format xgboost-ubj saves {', '.join(XGBOOST_ESTIMATORS)}, not "
                            f"{kind}.", hint="Save it with format 'skops'.")
    estimator.save_model(folder / XGBOOST_FILE)
    return {"file": XGBOOST_FILE, "estimator": kind, **_save_preprocess(predictor, folder),
            **_common_options(predictor)}


def load_xgboost(folder: Path, options: Mapping[str, Any], *, trusted: Iterable[str] = ()
                 ) -> TabularModel:
    xgb = _require("xgboost")
    kind = options.get("estimator")
    if kind not in XGBOOST_ESTIMATORS:
        raise ArtifactError(f"{folder}: unknown XGBoost estimator {kind!r} in the manifest.",
                            hint=f"Expected one of {', '.join(XGBOOST_ESTIMATORS)}.")
    preprocess = _load_preprocess(folder, options, trusted)
    estimator = getattr(xgb, str(kind))()
    estimator.load_model(payload_file(folder, options, "file", XGBOOST_FILE))
    return _predictor(preprocess, estimator, options, trusted)


# --- LightGBM ---------------------------------------------------------------------------------


def save_lightgbm(predictor: TabularModel, folder: Path) -> dict[str, Any]:
    """Format ``lightgbm-text``: preprocessing with skops, the booster in LightGBM's text."""
    estimator = predictor.estimator
    booster = estimator.booster if isinstance(estimator, LightGBMBooster) else \
        estimator.booster_
    booster.save_model(str(folder / LIGHTGBM_FILE))
    n_classes = len(predictor.classes) if predictor.classes is not None else None
    return {"file": LIGHTGBM_FILE, "n_classes": n_classes,
            **_save_preprocess(predictor, folder), **_common_options(predictor)}


def load_lightgbm(folder: Path, options: Mapping[str, Any], *, trusted: Iterable[str] = ()
                  ) -> TabularModel:
    lgb = _require("lightgbm")
    preprocess = _load_preprocess(folder, options, trusted)
    booster = lgb.Booster(model_file=str(payload_file(folder, options, "file", LIGHTGBM_FILE)))
    estimator = LightGBMBooster(booster, task=str(options.get("task")),
                                n_classes=options.get("n_classes"))
    return _predictor(preprocess, estimator, options, trusted)
