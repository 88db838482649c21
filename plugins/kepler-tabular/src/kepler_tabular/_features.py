"""Which columns become features when the user names none, and why the others do not.

A table pulled from Splunk carries Splunk's own fields next to the measurements: where an event
came from (``host``, ``source``, ``sourcetype``, ``index``, ``splunk_server``), how it was indexed
(``_raw``, ``_time``, ``_indextime``, ``_cd``, ``_bkt``, ``linecount``, ``punct``,
``timestartpos``, ``timeendpos``, ``date_*``) and what knowledge objects matched it
(``eventtype``, ``tag``, ``tag::FIELD``). Taken as features they make a model depend on the
collection plumbing (every request must then send ``host`` and ``_raw``) rather than on what the
event measures, so they are left out by default and used only when named in ``features=``.
``timestamp`` is not in the list although Splunk documents it as a default field: search results
rarely hold it, and a ``timestamp`` column in a JSON event is usually the user's own.

A column holding lists (a Splunk multivalue field such as ``tags``) is left out as well: its
values are sets of labels, often set from the very outcome being predicted (an alert tag), and a
list has no single category to one-hot encode. Turn it into columns first (one boolean column per
value, or ``df["tags"].str.join("|")`` for one category) and name them in ``features=``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase

import numpy as np
import pandas as pd
from kepler.api import FeatureSchema, TrainingError

from ._schema import infer_schema

#: Column names (``fnmatch`` patterns) that are no automatic feature: Splunk's internal fields
#: (``_*``) and default fields, per Splunk's "Use default fields" documentation. Name one in
#: ``features=`` to use it anyway; ``prepare(excluded=...)`` replaces the list.
SPLUNK_FIELDS: tuple[str, ...] = (
    "_*", "host", "index", "source", "sourcetype", "splunk_server", "splunk_server_group",
    "linecount", "punct", "timestartpos", "timeendpos", "eventtype", "tag", "tag::*",
    "date_hour", "date_mday", "date_minute", "date_month", "date_second", "date_wday",
    "date_year", "date_zone",
)
#: At most this many column names are spelled out in one note.
_SHOWN = 12


def is_excluded(name: str, patterns: Iterable[str] = SPLUNK_FIELDS) -> bool:
    """Whether column ``name`` matches one of ``patterns`` (case-sensitive, as Splunk is)."""
    return any(fnmatchcase(name, pattern) for pattern in patterns)


def holds_lists(column: pd.Series) -> bool:
    """Whether any value of ``column`` is a list (a multivalue field), tuple, set or array."""
    if column.dtype != object:
        return False
    return bool(column.map(lambda v: isinstance(v, list | tuple | set | np.ndarray)).any())


def _names(columns: Sequence[str]) -> str:
    shown = ", ".join(columns[:_SHOWN])
    return shown + (f" and {len(columns) - _SHOWN} more" if len(columns) > _SHOWN else "")


def check_named(frame: pd.DataFrame, chosen: Sequence[str]) -> None:
    """Features the user named that hold lists: an error saying how to encode them."""
    lists = [name for name in chosen if holds_lists(frame[name])]
    if lists:
        raise TrainingError(
            f"Feature(s) {', '.join(map(repr, lists))} hold lists (multivalue fields); a "
            "feature needs one value per row.",
            hint=f"Encode them first, e.g. df[{lists[0]!r}].str.join('|') for one category, or "
            f"df[{lists[0]!r}].str.join('|').str.get_dummies() for one column per value, and "
            "name the new columns in features=[...].",
        )


def automatic(frame: pd.DataFrame, candidates: Sequence[str], excluded: Iterable[str],
              notes: list[str], left_out: dict[str, str]) -> tuple[list[str], FeatureSchema]:
    """The automatic features among ``candidates``: every usable column except the ``excluded``
    patterns, lists, high-cardinality text and empty columns. Each column left out is recorded
    in ``left_out`` (name -> why) and explained in ``notes``."""
    patterns = tuple(excluded)
    splunk = [c for c in candidates if is_excluded(c, patterns)]
    rest = [c for c in candidates if c not in splunk]
    lists = [c for c in rest if holds_lists(frame[c])]
    if splunk:
        left_out.update(dict.fromkeys(splunk, "Splunk field"))
        notes.append(f"left out Splunk's own field(s) {_names(splunk)}: they describe where and "
                     "how an event was collected, not what it measures (name them in "
                     "features=[...] to use them)")
    if lists:
        left_out.update(dict.fromkeys(lists, "lists (multivalue)"))
        notes.append(f"left out {_names(lists)}: list values (multivalue fields) have no single "
                     "category and often carry the answer (a tag set from the outcome); encode "
                     "them as columns (e.g. df[col].str.join('|').str.get_dummies()) and name "
                     "those in features=[...]")
    schema = infer_schema(frame, [c for c in rest if c not in lists])
    chosen = []
    for feature in schema:
        if feature.kind == "text":
            left_out[feature.name] = "text"
            notes.append(f"left out {feature.name!r}: text with too many distinct values to "
                         "be a category (pass features=[...] to choose)")
        elif feature.missing_fraction >= 1.0:
            left_out[feature.name] = "no values"
            notes.append(f"left out {feature.name!r}: no values")
        else:
            chosen.append(feature.name)
    return chosen, FeatureSchema(features=[f for f in schema if f.name in chosen])


def used_note(chosen: Sequence[str], named: bool) -> str:
    """The note that names the features a model takes."""
    how = "as named" if named else "chosen automatically"
    return f"{len(chosen)} feature(s), {how}: {_names(list(chosen))}"
