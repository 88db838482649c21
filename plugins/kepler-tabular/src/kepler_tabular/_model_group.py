"""The *model group*: one model per value of a column (a pump, a line, a plant), saved, loaded,
served and deployed as one model.

A group artifact is an ordinary Kepler artifact whose format is ``model-group``. Its payload is
``group.json`` (the manifest of the group) and one complete member artifact per group under
``members/``. Every member file is a payload file of the group, so the group's manifest hashes
them all: a member cannot be swapped without the group failing verification; ``group.json`` also
keeps each member manifest's sha256 so a reader can check one member without the others.

``group.json``::

    {"by": "asset_id", "fallback": null,
     "members": [{"group": "P-001", "path": "members/0000", "sha256": "…", "metrics": {…},
                  "baseline": {…}, "main_metric": "f1", "rows_train": 800, "rows_test": 200}],
     "failed":  {"P-017": {"error": "TrainingError: …", "traceback": "…"}},
     "skipped": {"P-042": "12 rows, fewer than min_rows=50"}}

Predicting routes each row by its ``by`` value to that group's member; a value without a member
goes to the ``fallback`` member when one is set, else it is a ``ModelInputError`` (a 422 from
kepler-serve) naming the unknown groups.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

GROUP_FILE = "group.json"
FORMAT = "model-group"


class GroupPredictor:
    """Routes rows to the member model of their group (members loaded on first use)."""

    def __init__(self, by: str, members: Mapping[str, Any], *, fallback: str | None = None,
                 info: Mapping[str, Any] | None = None) -> None:
        #: group value (as text) -> a kepler.api.Model, or the Path of its artifact.
        self.by = by
        self.members: dict[str, Any] = dict(members)
        self.fallback = fallback
        self.info: dict[str, Any] = dict(info or {})

    def member(self, group: Any) -> Any:
        """The member Model for ``group`` (its text), loaded and verified on first use."""
        key = str(group)
        found = self.members[key]
        if isinstance(found, Path):
            from kepler.api import Model

            found = self.members[key] = Model.load(found)
        return found

    def _routes(self, frame: pd.DataFrame) -> dict[str, pd.Index]:
        """Row labels per member; unknown groups to the fallback, or a ModelInputError."""
        from kepler.api import ModelInputError

        if self.by not in frame.columns:
            raise ModelInputError(f"Each record needs {self.by!r}: this model group routes by it.",
                                  hint=f"Add {self.by!r} (one of {self._known()}) to every record.")
        keys = frame[self.by].astype(str)
        routes: dict[str, pd.Index] = {}
        unknown = sorted(set(keys) - set(self.members))
        if unknown and self.fallback is None:
            raise ModelInputError(
                f"No model for {self.by}={', '.join(map(repr, unknown[:5]))}"
                + (f" (and {len(unknown) - 5} more)" if len(unknown) > 5 else "") + ".",
                hint=f"Known {self.by} values: {self._known()}; or retrain with a fallback.")
        for key, rows in frame.groupby(keys, sort=False).groups.items():
            target = str(key) if str(key) in self.members else str(self.fallback)
            routes[target] = routes[target].append(rows) if target in routes else rows
        return routes

    def _known(self) -> str:
        known = sorted(self.members)
        return ", ".join(known[:10]) + (f" … ({len(known)} in all)" if len(known) > 10 else "")

    def _scatter(self, data: Any, method: str) -> pd.DataFrame:
        frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
        parts = []
        for key, rows in self._routes(frame).items():
            member = self.member(key)
            values = getattr(member, method)(frame.loc[rows].drop(columns=[self.by]))
            part = pd.DataFrame(values) if method == "predict_proba" else pd.DataFrame(
                {"value": list(values)})
            parts.append(part.set_axis(rows, axis=0))
        return pd.concat(parts).loc[frame.index] if parts else pd.DataFrame()

    def predict(self, data: Any) -> Any:
        """One prediction per row, each from its group's member, in the rows' order."""
        return self._scatter(data, "predict")["value"].to_numpy()

    def predict_proba(self, data: Any) -> Any:
        """Probabilities over every class any member knows (0 where a member never saw one)."""
        classes = self.info.get("classes") or []
        frame = self._scatter(data, "predict_proba")
        frame = frame.reindex(columns=classes if classes else frame.columns).fillna(0.0)
        return frame.to_numpy()

    def score_samples(self, data: Any) -> Any:
        return self._scatter(data, "score_samples")["value"].to_numpy()


def save_group(predictor: GroupPredictor, folder: Path) -> dict[str, Any]:
    """Format ``model-group``: every member's artifact under ``members/``, then ``group.json``."""
    from kepler.api import MANIFEST_FILE, sha256_file

    members = []
    for number, key in enumerate(sorted(predictor.members)):
        member = predictor.member(key)
        relative = f"members/{number:04d}"
        member.save(path=folder / relative)
        members.append({"group": key, "path": relative,
                        "sha256": sha256_file(folder / relative / MANIFEST_FILE),
                        **_summary(member)})
    document = {"by": predictor.by, "fallback": predictor.fallback, "members": members,
                "failed": predictor.info.get("failed", {}),
                "skipped": predictor.info.get("skipped", {})}
    (folder / GROUP_FILE).write_text(json.dumps(document, indent=2, default=str) + "\n",
                                     encoding="utf-8")
    return {"file": GROUP_FILE, "by": predictor.by, "classes": predictor.info.get("classes")}


def _summary(member: Any) -> dict[str, Any]:
    manifest = member.manifest
    return {"metrics": dict(manifest.metrics), "baseline": dict(manifest.baseline),
            "main_metric": manifest.main_metric, "beats_baseline": member.beats_baseline,
            "rows_train": manifest.training.rows_train, "rows_test": manifest.training.rows_test,
            "seconds": manifest.training.seconds}


def load_group(folder: Path, options: Mapping[str, Any], **load_options: Any) -> GroupPredictor:
    """Read ``group.json`` and check each member manifest's sha256; members load on first use
    (a group of thousands serves its first request without reading every member)."""
    from kepler.api import MANIFEST_FILE, ArtifactTamperedError, payload_file, sha256_file

    document = json.loads(payload_file(folder, options, "file", GROUP_FILE).read_text("utf-8"))
    members: dict[str, Any] = {}
    for entry in document["members"]:
        path = (folder / entry["path"]).resolve()
        if folder.resolve() not in path.parents:
            raise ArtifactTamperedError(f"{folder}: member path {entry['path']!r} leaves the "
                                        "artifact.", hint="Restore the model group.")
        if sha256_file(path / MANIFEST_FILE) != entry["sha256"]:
            raise ArtifactTamperedError(f"{folder}: the manifest of member {entry['group']!r} "
                                        "does not match group.json.",
                                        hint="Restore the model group from a trusted copy.")
        members[str(entry["group"])] = path
    fallback = load_options.get("fallback", document.get("fallback"))
    return GroupPredictor(document["by"], members, fallback=fallback,
                          info={"classes": options.get("classes"),
                                "failed": document.get("failed", {}),
                                "skipped": document.get("skipped", {}),
                                "members": document["members"]})


def read_group(folder: Path | str) -> dict[str, Any]:
    """``group.json`` of a model group artifact, for listings (no member is loaded)."""
    document: dict[str, Any] = json.loads((Path(folder) / GROUP_FILE).read_text("utf-8"))
    return document


def leaderboard(document: Mapping[str, Any]) -> pd.DataFrame:
    """One row per group: its main metric, the baseline's, rows, and failures and skips."""
    rows = []
    for entry in document["members"]:
        main = entry.get("main_metric")
        rows.append({"group": entry["group"], "status": "trained", "metric": main,
                     "score": entry["metrics"].get(main), "baseline": entry["baseline"].get(main),
                     "beats_baseline": entry.get("beats_baseline"),
                     "rows": entry["rows_train"] + entry["rows_test"], "reason": ""})
    for group, failure in document.get("failed", {}).items():
        rows.append({"group": group, "status": "failed", "reason": failure["error"]})
    for group, reason in document.get("skipped", {}).items():
        rows.append({"group": group, "status": "skipped", "reason": reason})
    return pd.DataFrame(rows, columns=["group", "status", "metric", "score", "baseline",
                                       "beats_baseline", "rows", "reason"])
