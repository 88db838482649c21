"""``kp.train.per_group``: one model per value of a column, trained in parallel on an executor.

Industrial fleets want a model per asset (pump, line, plant): assets differ more than a shared
model can absorb. Each group value gets its own model, metrics and naive baseline from any
installed trainer (``algorithm="random_forest"``, ``"xgboost"``...); groups with too few rows are
skipped, groups whose training fails are recorded with the error and traceback, and the rest make
one *model group* (:mod:`._model_group`) saved, served and deployed like a single model.

The tasks go to an executor (``kepler.api.executor``): ``"local"`` (processes here), ``"dask"``
or ``"dask://scheduler:8786"`` (kepler-dask). The table is shipped to each worker once; a task
carries only its group's row positions.

Example::

    group = kp.train.per_group(df, by="asset_id", algorithm="random_forest",
                               target="failure", executor="dask://scheduler:8786", save=True)
    group.leaderboard          # one row per asset: metric, baseline, rows, failures
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._data import as_frame, unknown_columns
from ._model_group import FORMAT, GroupPredictor, leaderboard

log = logging.getLogger(__name__)

#: Groups with fewer rows are skipped: too few to split into training and held-out rows.
MIN_ROWS = 30


@dataclass(frozen=True)
class _GroupTask:
    group: str
    #: Row positions of the group in the shared table.
    rows: np.ndarray
    algorithm: str
    target: str | None
    params: Mapping[str, Any]


def _train_group(task: _GroupTask, frame: pd.DataFrame) -> Any:
    """On a worker: train ``task.algorithm`` on the group's rows (without the group column,
    constant within a group) and return the unsaved Model."""
    from kepler.api import TrainerSpec, find_record, load_config, missing_capability

    spec = find_record(TrainerSpec, task.algorithm)
    if spec is None:
        raise missing_capability("train", task.algorithm)
    rows = frame.iloc[task.rows]
    return spec.create(load_config()).train(rows, target=task.target, **task.params)


def _plan(frame: pd.DataFrame, by: str, min_rows: int) -> tuple[dict[str, np.ndarray],
                                                                 dict[str, str]]:
    """Row positions per group with enough rows, and why the others are skipped."""
    positions = frame.groupby(frame[by].astype(str), sort=True).indices
    trainable, skipped = {}, {}
    for group, rows in positions.items():
        if len(rows) < min_rows:
            skipped[str(group)] = f"{len(rows)} rows, fewer than min_rows={min_rows}"
        else:
            trainable[str(group)] = rows
    return trainable, skipped


def per_group(data: Any, by: str, algorithm: str = "random_forest", target: str | None = None,
              *, executor: Any = None, min_rows: int = MIN_ROWS, fallback: str | None = None,
              name: str | None = None, save: bool = False, force: bool = False,
              **params: Any) -> Any:
    """Train one ``algorithm`` model per value of column ``by``; return one model group.

    ``executor``: where the groups train ("local" by default, "dask", "dask://host:8786", an
    executor object). ``min_rows``: groups with fewer rows are skipped (listed in the group).
    ``fallback``: a group value whose model scores records of groups the group does not know
    (else they are refused). ``save``: save the group as the next version in the registry.
    Other keywords (``features``, ``split``, ``random_state``, algorithm parameters...) go to
    every member's trainer, so every member is trained with the same seed.

    Returns a :class:`kepler.api.Model` whose ``.predictor`` is a :class:`GroupPredictor`;
    :func:`group_leaderboard` (``kp.train.per_group`` results' ``.leaderboard``) ranks members.
    """
    from kepler.api import TrainingError, finish_training, using_executor

    frame = as_frame(data)
    missing = [c for c in (by, target) if c is not None and c not in frame.columns]
    if missing:
        raise unknown_columns("Column", missing, frame)
    trainable, skipped = _plan(frame, by, min_rows)
    if fallback is not None and str(fallback) not in trainable:
        raise TrainingError(f"fallback={fallback!r} is not a group that will be trained.",
                            hint=f"Pick one of the {by} values with at least {min_rows} rows.")
    shared = frame.drop(columns=[by]).reset_index(drop=True)
    tasks = [_GroupTask(g, rows, algorithm, target, dict(params)) for g, rows in
             trainable.items()]
    bar = _bar(len(tasks), by)
    try:
        with using_executor(executor) as running:
            results = running.run(_train_group, tasks, shared=shared, labels=list(trainable),
                                  progress=None if bar is None else lambda *_: bar.update())
    finally:
        if bar is not None:
            bar.close()
    members = {r.label: r.value for r in results if r.ok}
    failed = {r.label: {"error": r.error, "traceback": r.traceback} for r in results
              if not r.ok}
    for group, failure in failed.items():
        log.warning("per_group: %s=%s failed: %s", by, group, failure["error"])
    if not members:
        raise TrainingError(f"No {by} group could be trained: "
                            + "; ".join(f"{g}: {f['error']}" for g, f in list(failed.items())[:3])
                            + (f" ({len(skipped)} skipped for too few rows)" if skipped else ""),
                            hint=f"Fix the first error; lower min_rows (now {min_rows}) if "
                            "groups are small.")
    model = group_model(members, by=by, algorithm=algorithm, target=target, name=name,
                        fallback=None if fallback is None else str(fallback),
                        failed=failed, skipped=skipped, frame=frame)
    return finish_training("per_group", model, save=save, force=force)


def _bar(total: int, by: str) -> Any:
    """A bar of groups trained in Jupyter or a terminal (tqdm, when installed); None in logs
    and CI, where it would only add noise."""
    import sys

    interactive = "ipykernel" in sys.modules or (hasattr(sys.stderr, "isatty")
                                                  and sys.stderr.isatty())
    if not interactive or total < 2:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=f"per_group: {by} models trained", unit=" model")


def group_model(members: Mapping[str, Any], *, by: str, algorithm: str, target: str | None,
                name: str | None, fallback: str | None, failed: Mapping[str, Any],
                skipped: Mapping[str, str], frame: pd.DataFrame) -> Any:
    """A kepler.api.Model of the trained members: a manifest that sums them up (mean metrics,
    summed rows, every member's features plus ``by``) and a routing predictor."""
    from kepler.api import FormatInfo, Model

    first = members[sorted(members)[0]].manifest
    classes = _classes(members)
    info = {"classes": classes, "failed": dict(failed), "skipped": dict(skipped)}
    predictor = GroupPredictor(by, members, fallback=fallback, info=info)
    summary = {"by": by, "members": len(members), "failed": len(failed),
               "skipped": len(skipped), "fallback": fallback}
    manifest = first.model_copy(update={
        "name": name or f"{first.name}-per-{by}".lower()[:100], "version": None,
        "description": f"{algorithm}: one model per {by} ({len(members)} trained, "
                       f"{len(failed)} failed, {len(skipped)} skipped)",
        "target": first.target.model_copy(update={"classes": classes}),
        "features": _features(members, by, frame, fallback),
        "metrics": _mean(m.manifest.metrics for m in members.values()),
        "baseline": _mean(m.manifest.baseline for m in members.values()),
        "evaluation": {"groups": leaderboard(_document(predictor)).to_dict("records")},
        "params": {**first.params, "by": by},
        "training": _training(members, first, summary),
        "lineage": first.lineage.model_copy(update={"rows": len(frame),
                                                    "columns": list(frame.columns)}),
        "format": FormatInfo(name=FORMAT), "files": {}, "size_bytes": 0,
        "environment": _environment(members, first),
        "extra": {**first.extra, "model_group": summary},
        "fingerprint": _fingerprint(members, by, fallback),
    })
    return Model(manifest, predictor)


def _document(predictor: GroupPredictor) -> dict[str, Any]:
    """group.json's content for an unsaved group (what the leaderboard reads)."""
    from ._model_group import _summary

    return {"members": [{"group": g, **_summary(m)} for g, m in sorted(
        predictor.members.items())], "failed": predictor.info["failed"],
        "skipped": predictor.info["skipped"]}


def _classes(members: Mapping[str, Any]) -> list[Any] | None:
    found: list[Any] = []
    for member in members.values():
        for value in member.manifest.target.classes or []:
            if value not in found:
                found.append(value)
    return sorted(found, key=str) if found else None


def _features(members: Mapping[str, Any], by: str, frame: pd.DataFrame,
              fallback: str | None) -> Any:
    """The group's inputs: ``by`` and every member's features, the first member's definition of
    each winning. ``by`` is a category of the trained groups (servers refuse other values up
    front), or free text when a fallback member takes the groups nobody trained."""
    from kepler.api import Feature, FeatureSchema

    features = [Feature(name=by, kind="text", dtype="str") if fallback is not None else
                Feature(name=by, kind="category", dtype=str(frame[by].dtype),
                        categories=sorted(members))]
    seen = {by}
    for member in members.values():
        for feature in member.manifest.features:
            if feature.name not in seen:
                seen.add(feature.name)
                features.append(feature)
    return FeatureSchema(features=features)


def _environment(members: Mapping[str, Any], first: Any) -> Any:
    """Every member's packages, and kepler-tabular (which reads the group format): what a
    deployment of the group installs."""
    from ._environment import distribution_of

    packages: dict[str, str] = {}
    for member in members.values():
        packages.update(member.manifest.environment.packages)
    found = distribution_of(__name__)
    if found is not None:
        packages.setdefault(*found)
    return first.environment.model_copy(update={"packages": dict(sorted(packages.items()))})


def _mean(values: Any) -> dict[str, float]:
    table = pd.DataFrame(list(values))
    return {k: float(v) for k, v in table.mean(numeric_only=True).items() if pd.notna(v)}


def _training(members: Mapping[str, Any], first: Any, summary: Mapping[str, Any]) -> Any:
    models = list(members.values())
    notes = [f"One {first.algorithm} model per {summary['by']}: {summary['members']} trained, "
             f"{summary['failed']} failed, {summary['skipped']} skipped; metrics are the "
             "members' means."]
    return first.training.model_copy(update={
        "seconds": float(sum(m.manifest.training.seconds for m in models)),
        "rows_train": int(sum(m.manifest.training.rows_train for m in models)),
        "rows_test": int(sum(m.manifest.training.rows_test for m in models)),
        "notes": notes, "history": {}})


def _fingerprint(members: Mapping[str, Any], by: str, fallback: str | None) -> str | None:
    import hashlib

    prints = [members[g].manifest.fingerprint for g in sorted(members)]
    if any(p is None for p in prints):
        return None
    text = "\n".join([by, str(fallback), *(f"{g}={p}" for g, p in zip(sorted(members), prints,
                                                                    strict=True))])
    return hashlib.sha256(text.encode()).hexdigest()


def group_leaderboard(model: Any) -> pd.DataFrame:
    """The per-group leaderboard of a model group (trained or loaded): best first."""
    board = pd.DataFrame(model.manifest.evaluation.get("groups", []))
    if board.empty:
        return board
    from kepler.api import higher_is_better

    metric = model.manifest.main_metric
    ascending = metric is not None and not higher_is_better(metric)
    return board.sort_values(["status", "score"], ascending=[False, ascending],
                             na_position="last").reset_index(drop=True)


def members_of(model: Any) -> Sequence[str]:
    """The group values a model group has a member for."""
    return sorted(model.predictor.members)
