"""Issue 19: ``parallel=N`` cuts the range into N concurrent jobs, exact at the boundaries."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta

import kepler as kp
import pytest
from click.testing import CliRunner
from kepler_splunk.slices import NotSplittableError, check_splittable, slice_ranges
from kepler_splunk.timerange import time_range

START = datetime(2024, 5, 1, tzinfo=UTC)


def _events() -> list[dict]:
    """Several events on every second of [START, START + 40 s), so every slice boundary (whole
    seconds) has events right on it; plus one event exactly at the range's end (excluded)."""
    rows = [{"_time": START + timedelta(seconds=s), "n": f"{s}-{k}", "tag": ["a", f"s{s}"]}
            for s in range(40) for k in range(3)]
    rows.append({"_time": START + timedelta(seconds=40), "n": "end", "tag": "x"})
    return rows


def _jobs(server):
    return server.requests_to(r"search/(v2/)?jobs$", method="POST")


@pytest.mark.parametrize("parallel", [2, 3, 4, 7])
def test_slices_are_exact_at_boundaries_and_match_one_job(splunk, parallel):
    splunk.add_index("web", _events())
    end = START + timedelta(seconds=40)
    one = kp.data.from_splunk("index=web", START, end, progress=False)
    many = kp.data.from_splunk("index=web", START, end, progress=False, parallel=parallel)
    assert len(one) == 120 and "end" not in set(one["n"])
    assert list(many["n"]) == list(one["n"])  # same rows, same (newest-first) order
    assert list(many["tag"]) == list(one["tag"])
    assert len(_jobs(splunk)) == 1 + parallel
    assert len(many.attrs["sid"].split(",")) == parallel and many.attrs["parallel"] == parallel


def test_slice_ranges_meet_at_whole_seconds():
    trange = time_range(START, START + timedelta(seconds=10, milliseconds=500))
    ranges = slice_ranges(trange, 4)
    assert ranges[0].latest_at == trange.latest_at and ranges[-1].earliest_at == START
    for newer, older in itertools.pairwise(ranges):
        assert older.latest == newer.earliest  # contiguous, no gap, no overlap
        assert float(newer.earliest).is_integer()


@pytest.mark.parametrize("spl", [
    "search index=web | stats count by host",
    "index=web | timechart count",
    "index=web | dedup host",
    "index=web | head 10",
    "| tstats count where index=web",
    "index=web earliest=-1d",
])
def test_searches_that_cannot_be_cut_are_refused(splunk, spl):
    splunk.add_index("web", _events())
    with pytest.raises(NotSplittableError):
        kp.data.from_splunk(spl, START, START + timedelta(seconds=40), progress=False, parallel=2)
    assert _jobs(splunk) == []  # refused before any job was created


def test_streaming_commands_and_quoted_pipes_are_splittable():
    check_splittable('search index=web "a | stats" | eval x=1 | where x>0 | fields n, tag')
    check_splittable("search index=web [search index=other | stats count | fields host]")


def test_marked_splittable_runs(splunk):
    splunk.add_index("web", _events())
    frame = kp.data.from_splunk("index=web | head 1000", START, START + timedelta(seconds=40),
                                progress=False, parallel=2, splittable=True)
    assert len(frame) == 120


def test_one_failing_slice_cancels_every_job(splunk, monkeypatch):
    splunk.add_index("web", _events())
    import kepler_splunk.jobs as jobs

    real_wait = jobs.SearchJob.wait
    calls = []
    lock = threading.Lock()

    def wait(self, on_progress=None):
        with lock:
            calls.append(self.sid)
            first = len(calls) == 1
        if first:
            raise KeyboardInterrupt  # Ctrl-C while the slices run
        return real_wait(self, on_progress)

    monkeypatch.setattr(jobs.SearchJob, "wait", wait)
    with pytest.raises(KeyboardInterrupt):
        kp.data.from_splunk("index=web", START, START + timedelta(seconds=40), progress=False,
                            parallel=4)
    cancelled = {r.endpoint.split("/")[-2] for r in splunk.requests_to(r"control$")
                 if r.params.get("action") == "cancel"}
    created = set(splunk.job_ids()) | cancelled
    assert len(cancelled) == 4 and cancelled == created


def test_an_error_while_reading_a_slice_cancels_the_rest(splunk, monkeypatch):
    splunk.add_index("web", _events())
    import kepler_splunk.pages as pages

    real = pages.read_page
    seen = []

    def flaky(job, offset, count, keep_internal, known=None):
        seen.append(job.sid)
        if len(seen) == 2:
            raise RuntimeError("connection reset")
        return real(job, offset, count, keep_internal, known)

    monkeypatch.setattr(pages, "read_page", flaky)
    with pytest.raises(RuntimeError, match="connection reset"):
        kp.data.from_splunk("index=web", START, START + timedelta(seconds=40), progress=False,
                            parallel=3)
    cancelled = [r for r in splunk.requests_to(r"control$") if r.params.get("action") == "cancel"]
    assert len(cancelled) >= 2  # the slice being read and every slice not read yet


def test_parallel_from_config_and_cli(splunk, monkeypatch):
    splunk.add_index("web", _events())
    monkeypatch.setenv("KEPLER_SPLUNK__PARALLEL", "2")
    frame = kp.data.from_splunk("index=web", START, START + timedelta(seconds=40),
                                progress=False)
    assert frame.attrs["parallel"] == 2 and len(frame) == 120
    from kepler_splunk.cli import data_splunk

    result = CliRunner().invoke(data_splunk, ["index=web", "--earliest", str(START.timestamp()),
                                              "--latest", str(START.timestamp() + 40),
                                              "--parallel", "3", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "120 rows" in result.output
    assert len(_jobs(splunk)) == 2 + 3


def test_parallel_needs_an_earliest_time(splunk):
    splunk.add_index("web", _events())
    from kepler.api import KeplerError

    with pytest.raises(KeplerError, match="earliest"):
        kp.data.from_splunk("index=web", progress=False, parallel=2)
