"""kepler-tabular's plugin module: records only, so listing plugins imports no pandas.

kepler-tabular is first a library (what every tabular trainer shares); as a plugin it adds only
what needs pandas or matplotlib and would otherwise sit in core:

- connector ``file``: a Parquet, CSV or JSON (lines) file, its path as the query;
- SDK functions ``kp.models.compare`` (a leaderboard of saved models) and
  ``kp.models.plot_history`` (what ``Model.plot_history`` draws);
- command ``kepler models compare``;
- ``kp.train.per_group`` (one model per value of a column, on any executor) and the
  ``model-group`` format its result is saved in, with ``kepler models groups``.
"""

from __future__ import annotations

from collections.abc import Iterator

from kepler.api import CommandSpec, ConnectorSpec, ModelFormatSpec, SdkFunctionSpec, hookimpl

KEPLER_PLUGIN_API = ">=1.3,<2"


@hookimpl
def kepler_connectors() -> Iterator[ConnectorSpec]:
    yield ConnectorSpec(name="file", target="kepler_tabular._connector:FileConnector",
                        description="A Parquet, CSV or JSON (lines) file; the query is its path.")


@hookimpl
def kepler_sdk_functions() -> Iterator[SdkFunctionSpec]:
    yield SdkFunctionSpec(namespace="models", name="compare",
                          target="kepler_tabular._comparison:compare_models",
                          description="Rank existing models of any framework by a metric.")
    yield SdkFunctionSpec(namespace="models", name="plot_history",
                          target="kepler_tabular._plots:plot_history",
                          description="A model's training curves (loss per epoch) as a chart.")
    yield SdkFunctionSpec(namespace="train", name="per_group",
                          target="kepler_tabular._per_group:per_group",
                          description="One model per value of a column (asset, line, plant), "
                          "trained in parallel on an executor, as one model group.")
    yield SdkFunctionSpec(namespace="models", name="group_leaderboard",
                          target="kepler_tabular._per_group:group_leaderboard",
                          description="A model group's members ranked, with failed and "
                          "skipped groups.")


@hookimpl
def kepler_model_formats() -> Iterator[ModelFormatSpec]:
    yield ModelFormatSpec(name="model-group", framework="kepler (model group)",
                          save="kepler_tabular._model_group:save_group",
                          load="kepler_tabular._model_group:load_group",
                          prepare="kepler_tabular:prepare_inputs", install="kepler-tabular",
                          description="One member model per group value, routed by a column.")


@hookimpl
def kepler_commands() -> Iterator[CommandSpec]:
    yield CommandSpec(name="compare", parent="models", target="kepler_tabular._cli:compare",
                      help="Rank models of any framework by a metric (table, JSON, chart).")
    yield CommandSpec(name="groups", parent="models", target="kepler_tabular._cli:groups",
                      help="A model group's per-group leaderboard (trained, failed, skipped).")
