"""Partitioned batch scoring's time slices, and what ``kepler predict --executor`` refuses."""

from __future__ import annotations

import datetime as dt

import pytest
from kepler.api import KeplerError
from kepler_serve.partitions import moment, slices

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def test_time_slices_are_adjacent_equal_and_absolute():
    cut = slices("-6h", "now", 3, now=NOW)
    assert cut == [("2026-03-01T06:00:00+00:00", "2026-03-01T08:00:00+00:00"),
                   ("2026-03-01T08:00:00+00:00", "2026-03-01T10:00:00+00:00"),
                   ("2026-03-01T10:00:00+00:00", "2026-03-01T12:00:00+00:00")]
    assert slices("2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z", 2, now=NOW)[1][0] == \
        "2026-03-01T12:00:00+00:00"
    assert moment("1772366400", NOW) == NOW
    assert moment("2026-03-01T12:00:00", NOW) == NOW  # naive means UTC


@pytest.mark.parametrize(("earliest", "latest", "message"), [
    (None, None, "needs a time range"), ("-1h", "-2h", "is not before"),
    ("@d", None, "Cannot cut '@d'")])
def test_ranges_that_cannot_be_cut_are_refused(earliest, latest, message):
    with pytest.raises(KeplerError, match=message):
        slices(earliest, latest, 4, now=NOW)


def test_predict_with_an_executor_scores_a_connector_range_into_a_sink(kepler_cli, tmp_path):
    rows = tmp_path / "rows.parquet"
    rows.write_bytes(b"")
    result = kepler_cli("predict", "m", "--input", str(rows), "--executor", "local")
    assert result.code != 0 and "--executor scores a connector's time range" in result.err
