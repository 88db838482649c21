"""``earliest``/``latest`` as users write them, as Splunk receives them, and as Kepler records them.

Relative modifiers (``-24h``, ``-7d@d``, ``@d``, ``now``) go to Splunk unchanged, so Splunk resolves
them in the searching user's time zone exactly as its search bar would; everything else
(``datetime``, epoch seconds, ISO strings) is sent as epoch seconds, which no time zone can
misread. Kepler also resolves the range locally (UTC) to validate it early and to label the data;
the job's own ``earliestTime``/``latestTime`` replace that label once Splunk answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from kepler.api import KeplerError

from .timemodifiers import ACCEPTED_FORMS, resolve_time

TimeValue = str | int | float | datetime | date | None


class TimeRangeError(KeplerError):
    """An unreadable or backwards time range."""


@dataclass(frozen=True)
class TimeRange:
    earliest: str | None
    latest: str | None
    earliest_at: datetime | None
    latest_at: datetime | None

    @property
    def in_the_past(self) -> bool:
        """Whether the whole range has already happened (so its results can no longer change)."""
        if self.latest_at is None or self.latest is None:
            return False
        return self.latest_at < datetime.now(UTC)

    def absolute(self) -> TimeRange:
        """The same range with both ends as epoch seconds (what a cache key needs)."""
        return TimeRange(
            _epoch(self.earliest_at), _epoch(self.latest_at), self.earliest_at, self.latest_at
        )

    def describe(self) -> dict[str, Any]:
        return {
            "earliest": self.earliest,
            "latest": self.latest,
            "earliest_utc": self.earliest_at.isoformat() if self.earliest_at else None,
            "latest_utc": self.latest_at.isoformat() if self.latest_at else None,
        }


def _epoch(moment: datetime | None) -> str | None:
    return None if moment is None else f"{moment.timestamp():.6f}".rstrip("0").rstrip(".")


def _is_relative(value: str) -> bool:
    text = value.strip().lower()
    return text == "now" or text[:1] in {"-", "+", "@"}


def _one(name: str, value: TimeValue, now: datetime) -> tuple[str | None, datetime | None]:
    try:
        resolved = resolve_time(value, now=now)
    except ValueError as exc:
        raise TimeRangeError(
            f"{name}={value!r} is not a time Kepler can read: {exc}",
            hint=f"Accepted: {ACCEPTED_FORMS}",
        ) from None
    if resolved is None:
        return None, None
    if isinstance(value, str) and _is_relative(value):
        return value.strip(), resolved
    return _epoch(resolved), resolved


def time_range(earliest: TimeValue, latest: TimeValue, now: datetime | None = None) -> TimeRange:
    anchor = now or datetime.now(UTC)
    e_sent, e_at = _one("earliest", earliest, anchor)
    l_sent, l_at = _one("latest", latest, anchor)
    if e_at is not None and l_at is not None and e_at > l_at:
        raise TimeRangeError(
            f"earliest={earliest!r} ({e_at.isoformat()}) is after latest={latest!r} "
            f"({l_at.isoformat()}).",
            hint="Swap them: earliest is the older bound, e.g. earliest='-7d', latest='now'.",
        )
    return TimeRange(e_sent, l_sent, e_at, l_at)


def normalize_spl(spl: str) -> str:
    """Prepend ``search`` when the query starts with neither ``search`` nor ``|``, as Splunk's
    search bar does."""
    text = spl.strip()
    if not text:
        raise KeplerError(
            "The SPL query is empty.",
            hint="Pass a search, e.g. 'search index=pumps sourcetype=sensor'.",
        )
    first = text.split(None, 1)[0].lower()
    if text.startswith("|") or first == "search":
        return text
    return f"search {text}"
