"""Splunk time modifiers: relative offsets, snapping, absolute forms and errors.

The connector (``kepler_splunk.timemodifiers``) and the test server it is tested against
(``kepler_splunk_testing.timemodifiers``, a copy: that distribution installs without this one)
must read Splunk's time syntax the same way, so every case here runs against both.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from types import ModuleType

import kepler_splunk.timemodifiers
import kepler_splunk_testing.timemodifiers
import pytest

# Wednesday 2024-05-15 13:45:30.250 UTC
NOW = datetime(2024, 5, 15, 13, 45, 30, 250_000, tzinfo=UTC)


@pytest.fixture(
    params=[kepler_splunk.timemodifiers, kepler_splunk_testing.timemodifiers],
    ids=["connector", "test-server"],
)
def tm(request: pytest.FixtureRequest) -> ModuleType:
    """One of the two implementations."""
    return request.param


def test_both_describe_the_same_accepted_forms() -> None:
    assert kepler_splunk.timemodifiers.ACCEPTED_FORMS == (
        kepler_splunk_testing.timemodifiers.ACCEPTED_FORMS
    )


@pytest.mark.parametrize(
    ("modifier", "expected"),
    [
        ("now", NOW),
        ("-24h", NOW - timedelta(hours=24)),
        ("-15m", NOW - timedelta(minutes=15)),
        ("-30s", NOW - timedelta(seconds=30)),
        ("-30sec", NOW - timedelta(seconds=30)),
        ("-2min", NOW - timedelta(minutes=2)),
        ("-3hr", NOW - timedelta(hours=3)),
        ("-2day", NOW - timedelta(days=2)),
        ("-1w", NOW - timedelta(weeks=1)),
        ("-1week", NOW - timedelta(weeks=1)),
        ("+1h", NOW + timedelta(hours=1)),
        ("-h", NOW - timedelta(hours=1)),
        ("-1mon", datetime(2024, 4, 15, 13, 45, 30, 250_000, tzinfo=UTC)),
        ("-2month", datetime(2024, 3, 15, 13, 45, 30, 250_000, tzinfo=UTC)),
        ("-1q", datetime(2024, 2, 15, 13, 45, 30, 250_000, tzinfo=UTC)),
        ("-1y", datetime(2023, 5, 15, 13, 45, 30, 250_000, tzinfo=UTC)),
        ("-1year", datetime(2023, 5, 15, 13, 45, 30, 250_000, tzinfo=UTC)),
    ],
)
def test_relative_offsets(tm: ModuleType, modifier: str, expected: datetime) -> None:
    assert tm.resolve_time(modifier, now=NOW) == expected


@pytest.mark.parametrize(
    ("modifier", "expected"),
    [
        ("@s", datetime(2024, 5, 15, 13, 45, 30, tzinfo=UTC)),
        ("-15m@m", datetime(2024, 5, 15, 13, 30, tzinfo=UTC)),
        ("@h", datetime(2024, 5, 15, 13, tzinfo=UTC)),
        ("@d", datetime(2024, 5, 15, tzinfo=UTC)),
        # -7d@d: seven days ago, then back to that day's midnight
        ("-7d@d", datetime(2024, 5, 8, tzinfo=UTC)),
        # @w0: the most recent Sunday at midnight (2024-05-12)
        ("@w0", datetime(2024, 5, 12, tzinfo=UTC)),
        ("@w", datetime(2024, 5, 12, tzinfo=UTC)),
        ("@w7", datetime(2024, 5, 12, tzinfo=UTC)),
        ("@w1", datetime(2024, 5, 13, tzinfo=UTC)),  # Monday
        ("@w3", datetime(2024, 5, 15, tzinfo=UTC)),  # today is Wednesday
        ("@w4", datetime(2024, 5, 9, tzinfo=UTC)),  # last Thursday
        ("-1mon@mon", datetime(2024, 4, 1, tzinfo=UTC)),
        ("@q", datetime(2024, 4, 1, tzinfo=UTC)),
        ("@y", datetime(2024, 1, 1, tzinfo=UTC)),
        ("@d-2h", datetime(2024, 5, 14, 22, tzinfo=UTC)),  # chained: snap, then offset
        ("-1d@d+8h", datetime(2024, 5, 14, 8, tzinfo=UTC)),
    ],
)
def test_snapping(tm: ModuleType, modifier: str, expected: datetime) -> None:
    assert tm.resolve_time(modifier, now=NOW) == expected


def test_week_snap_on_the_day_itself_stays_on_that_day(tm: ModuleType) -> None:
    sunday = datetime(2024, 5, 12, 9, 0, tzinfo=UTC)
    assert tm.resolve_time("@w0", now=sunday) == datetime(2024, 5, 12, tzinfo=UTC)


def test_month_arithmetic_clamps_the_day(tm: ModuleType) -> None:
    march_31 = datetime(2024, 3, 31, 12, tzinfo=UTC)
    assert tm.resolve_time("-1mon", now=march_31) == datetime(2024, 2, 29, 12, tzinfo=UTC)
    assert tm.resolve_time("+11mon", now=march_31) == datetime(2025, 2, 28, 12, tzinfo=UTC)


@pytest.mark.parametrize("value", [None, "", "   "])
def test_no_bound(tm: ModuleType, value: str | None) -> None:
    assert tm.resolve_time(value, now=NOW) is None


def test_absolute_forms(tm: ModuleType) -> None:
    expected = datetime(2024, 1, 31, 12, 0, tzinfo=UTC)
    assert tm.resolve_time("2024-01-31T12:00:00Z") == expected
    assert tm.resolve_time("2024-01-31T13:00:00+01:00") == expected
    assert tm.resolve_time("2024-01-31 12:00:00") == expected  # naive means UTC
    assert tm.resolve_time("01/31/2024:12:00:00") == expected  # Splunk's own format
    assert tm.resolve_time(expected.timestamp()) == expected
    assert tm.resolve_time(int(expected.timestamp())) == expected
    assert tm.resolve_time(str(int(expected.timestamp()))) == expected
    assert tm.resolve_time("1706702400.5") == expected + timedelta(milliseconds=500)
    assert tm.resolve_time(datetime(2024, 1, 31, 12)) == expected
    assert tm.resolve_time(datetime(2024, 1, 31, 13, tzinfo=timezone(timedelta(hours=1)))) == expected
    assert tm.resolve_time(date(2024, 1, 31)) == datetime(2024, 1, 31, tzinfo=UTC)
    assert tm.resolve_time(0) == datetime(1970, 1, 1, tzinfo=UTC)


def test_results_are_utc_and_aware(tm: ModuleType) -> None:
    result = tm.resolve_time("-1h", now=datetime(2024, 1, 1, 12))  # naive now means UTC
    assert result == datetime(2024, 1, 1, 11, tzinfo=UTC)
    assert result.tzinfo is UTC


def test_default_now_is_the_current_time(tm: ModuleType) -> None:
    before = datetime.now(UTC)
    result = tm.resolve_time("now")
    assert result is not None and before <= result <= datetime.now(UTC)


def test_resolve_epoch(tm: ModuleType) -> None:
    assert tm.resolve_epoch("-1h", now=NOW) == (NOW - timedelta(hours=1)).timestamp()
    assert tm.resolve_epoch(None) is None


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("-5", "cannot read"),
        ("-5x", "unknown time unit 'x'"),
        ("yesterday", "not a relative modifier"),
        ("-1d@", "cannot read"),
        ("@d3", "only '@w' takes a day number"),
        ("@w9", "day number must be 0-7"),
        ("rt-5m", "real-time"),
        (True, "boolean"),
        ([1], "unsupported type list"),
    ],
)
def test_errors_name_the_value_and_the_accepted_forms(tm: ModuleType, value: object, reason: str) -> None:
    with pytest.raises(ValueError) as error:
        tm.resolve_time(value, now=NOW)  # type: ignore[arg-type]
    message = str(error.value)
    assert repr(value) in message
    assert reason in message
    assert "Accepted forms" in message and "-7d@d" in message
