"""Splunk time modifiers (``-24h``, ``-7d@d``, ``@w0``, ISO-8601, epoch) resolved to UTC datetimes.

Kepler's connector reads them to validate ``earliest``/``latest`` before a search is sent and to
label what was fetched. The Splunk-protocol test server needs the same reading to filter events
by time and keeps its own copy (``kepler_splunk_testing.timemodifiers``: it installs and runs
without the connector); one table of cases in kepler-splunk's tests runs against both copies, so
the two cannot drift apart unnoticed.

Semantics follow Splunk's "Specify time modifiers in your search" reference:

- A relative modifier is a chain of offsets (``[+-]<integer><unit>``; the integer defaults to 1)
  and snaps (``@<unit>``), applied left to right to ``now``: ``-7d@d`` is "seven days ago, then
  back to that day's midnight"; ``@d-2h`` is "today's midnight minus two hours".
- Snapping always rounds *down* (toward the past): ``@w0`` is the most recent Sunday at 00:00
  (today, if today is Sunday); ``@w1`` the most recent Monday; ``@q`` the start of the quarter.
- Month arithmetic clamps the day: ``-1mon`` from March 31 is February 28 (or 29).

One deliberate difference: Splunk snaps in the searching user's time zone; this module works in
UTC (the test server renders every time in UTC too), so ``@d`` is midnight UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

__all__ = ["ACCEPTED_FORMS", "resolve_epoch", "resolve_time"]

ACCEPTED_FORMS = (
    "None or '' (no bound); 'now'; a relative modifier such as '-24h', '-7d@d', '@d', "
    "'-15m@m', '+1h', '-1mon@mon', '@w0' (units s/sec/m/min/h/hr/d/day/w/week/mon/month/"
    "q/qtr/quarter/y/yr/year, snap with '@unit'); an ISO-8601 string such as "
    "'2024-01-31T12:00:00Z'; Splunk's '%m/%d/%Y:%H:%M:%S' such as '01/31/2024:12:00:00'; "
    "epoch seconds (1706702400, 1706702400.5 or '1706702400'); a datetime or date "
    "(naive means UTC)"
)

# Every spelling Splunk accepts, mapped to one canonical unit.
_UNIT_ALIASES: dict[str, str] = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), "s"),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), "m"),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "h"),
    **dict.fromkeys(("d", "day", "days"), "d"),
    **dict.fromkeys(("w", "week", "weeks"), "w"),
    **dict.fromkeys(("mon", "month", "months"), "mon"),
    **dict.fromkeys(("q", "qtr", "qtrs", "quarter", "quarters"), "q"),
    **dict.fromkeys(("y", "yr", "yrs", "year", "years"), "y"),
}
_FIXED_UNITS: dict[str, timedelta] = {
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}
_MONTHS_PER_UNIT: dict[str, int] = {"mon": 1, "q": 3, "y": 12}

_OFFSET = re.compile(r"([+-])(\d*)([a-zA-Z]+)")
_SNAP = re.compile(r"@([a-zA-Z]+)(\d*)")
_EPOCH = re.compile(r"\d+(\.\d*)?")
_SPLUNK_FORMAT = "%m/%d/%Y:%H:%M:%S"


def resolve_time(
    value: str | int | float | datetime | date | None, now: datetime | None = None
) -> datetime | None:
    """Resolve a Splunk time value to a timezone-aware UTC datetime, or None for "no bound".

    ``now`` anchors relative modifiers (default: the current time); naive datetimes are UTC.

    >>> base = datetime(2024, 5, 15, 13, 45, tzinfo=UTC)  # a Wednesday
    >>> resolve_time("-7d@d", now=base).isoformat()
    '2024-05-08T00:00:00+00:00'
    >>> resolve_time("@w0", now=base).isoformat()
    '2024-05-12T00:00:00+00:00'

    Raises ValueError naming the value and the accepted forms when it cannot be read.
    """
    anchor = _as_utc(now) if now is not None else datetime.now(UTC)
    if value is None:
        return None
    if isinstance(value, bool):  # bool is an int subclass; True is not a time
        raise _invalid(value, "a boolean is not a time")
    if isinstance(value, datetime):
        return _as_utc(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, (int, float)):
        return _from_epoch(value, value)
    if not isinstance(value, str):
        raise _invalid(value, f"unsupported type {type(value).__name__}")
    text = value.strip()
    if not text:
        return None
    if text.lower() == "now":
        return anchor
    if _EPOCH.fullmatch(text):
        return _from_epoch(float(text), value)
    if text[0] in "+-@":
        return _resolve_relative(text, anchor, value)
    if text.lower().startswith("rt"):
        raise _invalid(value, "real-time modifiers ('rt...') are not supported")
    return _parse_absolute(text, value)


def resolve_epoch(
    value: str | int | float | datetime | date | None, now: datetime | None = None
) -> float | None:
    """Like :func:`resolve_time`, but as epoch seconds (what Splunk's REST API echoes back)."""
    resolved = resolve_time(value, now=now)
    return None if resolved is None else resolved.timestamp()


def _resolve_relative(text: str, anchor: datetime, original: object) -> datetime:
    result = anchor
    position = 0
    while position < len(text):
        offset = _OFFSET.match(text, position)
        if offset is not None:
            sign, amount, unit_text = offset.groups()
            unit = _unit(unit_text, original)
            count = int(amount) if amount else 1
            result = _shift(result, -count if sign == "-" else count, unit)
            position = offset.end()
            continue
        snap = _SNAP.match(text, position)
        if snap is not None:
            result = _snap(result, snap.group(1), snap.group(2), original)
            position = snap.end()
            continue
        raise _invalid(original, f"cannot read {text[position:]!r}")
    return result


def _unit(unit_text: str, original: object) -> str:
    unit = _UNIT_ALIASES.get(unit_text.lower())
    if unit is None:
        raise _invalid(original, f"unknown time unit {unit_text!r}")
    return unit


def _shift(moment: datetime, count: int, unit: str) -> datetime:
    if unit in _FIXED_UNITS:
        return moment + count * _FIXED_UNITS[unit]
    return _add_months(moment, count * _MONTHS_PER_UNIT[unit])


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + (moment.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return moment.replace(year=year, month=month, day=min(moment.day, _days_in(year, month)))


def _days_in(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


def _snap(moment: datetime, unit_text: str, digits: str, original: object) -> datetime:
    unit = _unit(unit_text, original)
    if digits and unit != "w":
        raise _invalid(original, f"only '@w' takes a day number, not '@{unit_text}{digits}'")
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "s":
        return moment.replace(microsecond=0)
    if unit == "m":
        return moment.replace(second=0, microsecond=0)
    if unit == "h":
        return moment.replace(minute=0, second=0, microsecond=0)
    if unit == "d":
        return midnight
    if unit == "w":
        splunk_day = int(digits) if digits else 0  # 0 and 7 are Sunday, 1 Monday, ...
        if splunk_day > 7:
            raise _invalid(original, f"'@w{digits}': the day number must be 0-7 (0 = Sunday)")
        python_day = (splunk_day - 1) % 7  # datetime.weekday(): Monday = 0 ... Sunday = 6
        return midnight - timedelta(days=(moment.weekday() - python_day) % 7)
    if unit == "mon":
        return midnight.replace(day=1)
    if unit == "q":
        return midnight.replace(month=(moment.month - 1) // 3 * 3 + 1, day=1)
    return midnight.replace(month=1, day=1)  # "y"


def _parse_absolute(text: str, original: object) -> datetime:
    try:
        return _as_utc(datetime.fromisoformat(text))
    except ValueError:
        pass
    try:
        return datetime.strptime(text, _SPLUNK_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise _invalid(original, "not a relative modifier, ISO-8601 time or epoch") from None


def _from_epoch(seconds: float, original: object) -> datetime:
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as error:
        raise _invalid(original, f"epoch seconds out of range ({error})") from None


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _invalid(value: object, reason: str) -> ValueError:
    return ValueError(f"Invalid Splunk time {value!r}: {reason}. Accepted forms: {ACCEPTED_FORMS}.")
