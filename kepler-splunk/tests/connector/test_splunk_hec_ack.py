"""Indexer acknowledgement that does not answer (issue 18): polls go uncompressed, and a refused
poll ends the write at once, without resending what Splunk accepted."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import kepler as kp
import numpy as np
import pandas as pd
import pytest
from kepler_splunk.hec_writer import HecError

ROWS = 2_000


def predictions(count: int) -> pd.DataFrame:
    now = datetime.now(UTC).replace(microsecond=0)
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "_time": [now - timedelta(seconds=count - i) for i in range(count)],
        "asset_id": [f"P-{i % 5}" for i in range(count)],
        "prediction": rng.integers(0, 2, count),
    })


@pytest.fixture
def acked(splunk, monkeypatch):
    """The test server's HEC with an acknowledging token, Kepler set to use acks, small batches
    (many ackIds), and the default ack timeout and retries (what made the old loop take 71 s)."""
    splunk.add_index("ml_predictions")
    token = splunk.add_hec_token(name="acked", use_ack=True)
    monkeypatch.setenv("KEPLER_SPLUNK__HEC_TOKEN", token)
    monkeypatch.setenv("KEPLER_SPLUNK__HEC_ACK", "true")
    monkeypatch.setenv("KEPLER_SPLUNK__HEC_BATCH_BYTES", "20000")
    return splunk


def spooled_files():
    from kepler_splunk.spool import spool_dir

    return list(spool_dir().glob("*.hec"))


def test_ack_polls_are_sent_uncompressed(acked):
    acked.hec_faults(reject_gzip_acks=True)  # an ack endpoint that cannot read a gzip body
    report = kp.results.to_splunk(predictions(ROWS), index="ml_predictions", progress=False)
    assert report.ok and report.acknowledged == ROWS and report.sent == ROWS
    assert not report.retried and not report.duplicates
    assert acked.hec_stats["ack_polls_rejected"] == 0
    assert acked.hec_stats["events_indexed"] == ROWS
    polls = acked.requests_to(r"collector/ack$")
    assert polls and all(p.status == 200 for p in polls)


def test_a_refused_ack_poll_stops_at_once_without_resending(acked):
    acked.hec_faults(reject_acks=True)
    started = time.monotonic()
    with pytest.raises(HecError) as info:
        kp.results.to_splunk(predictions(ROWS), index="ml_predictions", progress=False)
    elapsed = time.monotonic() - started
    error = info.value
    assert "Acknowledgement is not answering" in error.message
    assert f"accepted {ROWS:,} events" in error.message and "neither resent nor spooled" in (
        error.message)
    assert error.status == 400 and error.code == 6 and "hec_ack: false" in error.hint
    report = error.report
    assert report is not None
    assert report.sent == ROWS and report.unacknowledged == ROWS and report.acknowledged == 0
    assert report.retried == 0 and report.duplicates == 0 and report.spooled == 0
    assert not report.ok and "2,000 accepted but unacknowledged" in report.summary()
    # every row went out exactly once: no 7x resend, nothing spooled, one refused poll
    assert acked.hec_stats["events_indexed"] == ROWS
    assert len(acked.hec_events(index="ml_predictions")) == ROWS
    assert acked.hec_stats["ack_polls_rejected"] == 1
    assert not spooled_files()
    assert elapsed < 10, f"took {elapsed:.1f} s"


def test_a_refused_ack_poll_through_the_cli_names_the_problem(acked, kepler_cli, tmp_path):
    acked.hec_faults(reject_acks=True)
    path = tmp_path / "scores.parquet"
    predictions(300).to_parquet(path)
    result = kepler_cli("results", "to-splunk", str(path), "--index", "ml_predictions")
    assert result.code != 0
    assert "Acknowledgement is not answering" in result.err and "Hint:" in result.err
    assert acked.hec_stats["events_indexed"] == 300
