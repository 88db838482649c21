"""kepler-tabular: what every tabular Kepler trainer shares.

kepler-sklearn and kepler-torch (and any third-party trainer of tables) build on it, so
``split="time"``, a feature's preprocessing, a metric and its naive baseline mean the same for
every framework, and their models rank together in one leaderboard:

- data checks: :func:`prepare` (target, features, task; a :class:`Prepared` table),
  :func:`as_frame`, :func:`infer_task`, :func:`resolve_task`, :func:`find_time_column`;
  automatic features leave out Splunk's own fields (:data:`SPLUNK_FIELDS`, :func:`is_excluded`)
  and list columns (:func:`holds_lists`), with a note for each;
- splits: :func:`holdout` and :func:`folds`, random (stratified), by time, or by whole groups
  (``split="group"``, ``groups="COLUMN"``); ``split="auto"`` (:func:`resolve_split`) is "time"
  when the data has a time column, else "random";
- warnings about classes too small to measure: :func:`class_warnings`, :data:`MIN_CLASS_ROWS`;
- preprocessing that travels inside the model: :func:`build_preprocessor` (a scikit-learn
  ``ColumnTransformer`` of :class:`AsFloat`, :class:`Categories`, :class:`DatetimeFeatures`...),
  saved with :func:`dump_skops` and read back with :func:`load_skops_file` behind an allow-list;
- metrics next to a naive baseline: :func:`evaluate`, :func:`score_classification`,
  :func:`score_regression`, :class:`Evaluation`;
- the feature schema: :func:`infer_schema`, and :func:`prepare_inputs`, the ``prepare`` of every
  tabular model format;
- lineage: :func:`describe_data`, :func:`data_hash`; files: :func:`read_table`;
- leaderboards: :class:`Comparison` (``kp.train.compare``, ``kp.models.compare``) and charts
  (:meth:`Comparison.plot`, :func:`plot_history`);
- for manifests: :func:`default_name`, :func:`distribution_of`; for tests and notebooks:
  :func:`make_sensor_data`.

Only the names exported here are public; the underscored modules are private. Names are
resolved on first use, so importing ``kepler_tabular`` (as its plugin module's parent package is
while ``kepler --help`` runs) imports neither pandas nor scikit-learn.

Example::

    from kepler_tabular import holdout, make_sensor_data, prepare
    df = make_sensor_data(rows=1000)
    prepared = prepare(df, target="failure", features=None, task="auto",
                       tasks=("classification",), algorithm="mine", split="group",
                       groups="pump")
    train, test = holdout(prepared, test_size=0.25, split="group", random_state=0)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from ._comparison import Comparison as Comparison
    from ._comparison import compare_models as compare_models
    from ._connector import FileConnector as FileConnector
    from ._data import MAX_CLASSES_FOR_AUTO as MAX_CLASSES_FOR_AUTO
    from ._data import SPLITS as SPLITS
    from ._data import TASKS as TASKS
    from ._data import TIME_NAMES as TIME_NAMES
    from ._data import Prepared as Prepared
    from ._data import as_frame as as_frame
    from ._data import find_time_column as find_time_column
    from ._data import infer_task as infer_task
    from ._data import prepare as prepare
    from ._data import resolve_split as resolve_split
    from ._data import resolve_task as resolve_task
    from ._data import unknown_columns as unknown_columns
    from ._datasets import make_sensor_data as make_sensor_data
    from ._environment import default_name as default_name
    from ._environment import distribution_of as distribution_of
    from ._features import SPLUNK_FIELDS as SPLUNK_FIELDS
    from ._features import holds_lists as holds_lists
    from ._features import is_excluded as is_excluded
    from ._files import TIME_COLUMNS as TIME_COLUMNS
    from ._files import parse_times as parse_times
    from ._files import read_table as read_table
    from ._lineage import data_hash as data_hash
    from ._lineage import describe_data as describe_data
    from ._metrics import Evaluation as Evaluation
    from ._metrics import average as average
    from ._metrics import evaluate as evaluate
    from ._metrics import positive_class as positive_class
    from ._metrics import quantiles as quantiles
    from ._metrics import regression_scores as regression_scores
    from ._metrics import score_classification as score_classification
    from ._metrics import score_regression as score_regression
    from ._plots import plot_history as plot_history
    from ._preprocessing import DATETIME_PARTS as DATETIME_PARTS
    from ._preprocessing import MAX_ONE_HOT as MAX_ONE_HOT
    from ._preprocessing import MISSING as MISSING
    from ._preprocessing import AsFloat as AsFloat
    from ._preprocessing import Categories as Categories
    from ._preprocessing import DatetimeFeatures as DatetimeFeatures
    from ._preprocessing import build_preprocessor as build_preprocessor
    from ._preprocessing import column_kinds as column_kinds
    from ._schema import MAX_CATEGORIES as MAX_CATEGORIES
    from ._schema import infer_schema as infer_schema
    from ._schema import prepare_inputs as prepare_inputs
    from ._skops import TRUSTED_PACKAGES as TRUSTED_PACKAGES
    from ._skops import dump_skops as dump_skops
    from ._skops import is_allowed as is_allowed
    from ._skops import load_skops_file as load_skops_file
    from ._skops import refused as refused
    from ._splits import folds as folds
    from ._splits import holdout as holdout
    from ._warnings import MIN_CLASS_ROWS as MIN_CLASS_ROWS
    from ._warnings import class_warnings as class_warnings

#: public name -> private module that defines it.
_WHERE: dict[str, str] = {
    **dict.fromkeys(("Comparison", "compare_models"), "_comparison"),
    "FileConnector": "_connector",
    **dict.fromkeys(("MAX_CLASSES_FOR_AUTO", "SPLITS", "TASKS", "TIME_NAMES", "Prepared",
                     "as_frame", "find_time_column", "infer_task", "prepare", "resolve_split",
                     "resolve_task", "unknown_columns"), "_data"),
    "make_sensor_data": "_datasets",
    **dict.fromkeys(("default_name", "distribution_of"), "_environment"),
    **dict.fromkeys(("SPLUNK_FIELDS", "holds_lists", "is_excluded"), "_features"),
    **dict.fromkeys(("TIME_COLUMNS", "parse_times", "read_table"), "_files"),
    **dict.fromkeys(("data_hash", "describe_data"), "_lineage"),
    **dict.fromkeys(("Evaluation", "average", "evaluate", "positive_class", "quantiles",
                     "regression_scores", "score_classification", "score_regression"),
                    "_metrics"),
    "plot_history": "_plots",
    **dict.fromkeys(("DATETIME_PARTS", "MAX_ONE_HOT", "MISSING", "AsFloat", "Categories",
                     "DatetimeFeatures", "build_preprocessor", "column_kinds"),
                    "_preprocessing"),
    **dict.fromkeys(("MAX_CATEGORIES", "infer_schema", "prepare_inputs"), "_schema"),
    **dict.fromkeys(("TRUSTED_PACKAGES", "dump_skops", "is_allowed", "load_skops_file",
                     "refused"), "_skops"),
    **dict.fromkeys(("folds", "holdout"), "_splits"),
    **dict.fromkeys(("MIN_CLASS_ROWS", "class_warnings"), "_warnings"),
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    try:
        module = _WHERE[name]
    except KeyError:
        raise AttributeError(f"module 'kepler_tabular' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
