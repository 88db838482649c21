"""The ``jsonl`` sink, used the way Kepler uses it: by name, through
``kepler.api.write_results``, with the plugin found through its entry point."""

from __future__ import annotations

import json
import math
import os
import threading

import numpy as np
import pandas as pd
import pytest
from kepler.api import KeplerError, write_results


def read_lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def scores():
    return pd.DataFrame({
        "_time": pd.to_datetime(["2026-01-05T10:00:00Z", None], utc=True),
        "pump": ["pump-01", "pompe-é"],
        "prediction": np.array([1, 0], dtype="int64"),
        "probability": [0.875, math.nan],
        "ok": [True, False],
    })


def test_batches_are_appended_one_json_object_per_row(kepler_home, scores, tmp_path):
    out = tmp_path / "out" / "scores.jsonl"
    first = write_results(scores, sink="jsonl", path=str(out))
    assert (first.rows, first.path, first.sent, first.ok) == (2, out, 2, True)
    assert first.bytes == out.stat().st_size and "2 rows appended" in first.summary()
    second = write_results([{"model": "pump-failure", "prediction": 1, "at": pd.NaT}],
                           sink="jsonl", path=out)
    assert second.rows == 1
    assert read_lines(out) == [
        {"_time": "2026-01-05T10:00:00+00:00", "pump": "pump-01", "prediction": 1,
         "probability": 0.875, "ok": True},
        {"_time": None, "pump": "pompe-é", "prediction": 0, "probability": None, "ok": False},
        {"model": "pump-failure", "prediction": 1, "at": None},
    ]
    assert "pompe-é" in out.read_text(encoding="utf-8")  # UTF-8, not \u escapes


def test_a_relative_path_is_relative_to_the_working_directory(kepler_home, scores):
    report = write_results(scores.head(1), sink="jsonl", path="here.jsonl")
    assert report.path == kepler_home.parent / "work" / "here.jsonl"
    assert len(read_lines(report.path)) == 1


def test_without_a_path_it_writes_to_audit_results_path(kepler_cli, scores, tmp_path,
                                                        monkeypatch):
    assert kepler_cli("init", "plant").code == 0
    project = tmp_path / "work" / "plant"
    (project / "sub").mkdir()
    monkeypatch.chdir(project / "sub")  # the default is relative to the project, not here
    with pytest.raises(KeplerError, match="needs a file to write to") as caught:
        write_results(scores, sink="jsonl")
    assert "audit.results_path" in caught.value.hint and "path=FILE" in caught.value.hint
    monkeypatch.setenv("KEPLER_AUDIT__RESULTS_PATH", "results/scores.jsonl")
    report = write_results(scores, sink="jsonl")
    assert report.path == project / "results" / "scores.jsonl"
    assert len(read_lines(report.path)) == 2


def test_each_batch_is_one_write_followed_by_fsync(kepler_home, scores, tmp_path, monkeypatch):
    import kepler_audit.jsonl as sink_module

    calls: list[tuple[str, int]] = []
    real_write, real_fsync = os.write, os.fsync
    monkeypatch.setattr(sink_module.os, "write",
                        lambda fd, data: calls.append(("write", len(data))) or real_write(fd, data))
    monkeypatch.setattr(sink_module.os, "fsync",
                        lambda fd: calls.append(("fsync", 0)) or real_fsync(fd))
    big = pd.concat([scores] * 500, ignore_index=True)
    report = write_results(big, sink="jsonl", path=tmp_path / "big.jsonl")
    assert calls == [("write", report.bytes), ("fsync", 0)]
    assert report.rows == 1000 == len(read_lines(tmp_path / "big.jsonl"))


def test_a_batch_that_cannot_be_written_leaves_the_file_as_it_was(kepler_home, scores,
                                                                  tmp_path, monkeypatch):
    import kepler_audit.jsonl as sink_module

    out = tmp_path / "scores.jsonl"
    write_results(scores, sink="jsonl", path=out)
    before = out.read_bytes()
    with pytest.raises(KeplerError, match="row 2 is a str"):
        write_results([{"a": 1}, {"a": 2}, "three"], sink="jsonl", path=out)
    assert out.read_bytes() == before

    def disk_full(fd, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sink_module.os, "write", disk_full)
    with pytest.raises(KeplerError, match="No space left on device") as caught:
        write_results(scores, sink="jsonl", path=out)
    assert "nothing of this batch was written" in caught.value.hint
    assert out.read_bytes() == before


def test_concurrent_batches_never_interleave(kepler_home, tmp_path):
    out = tmp_path / "shared.jsonl"
    writers, rows = 8, 300

    def append(writer: int) -> None:
        batch = [{"writer": writer, "row": i, "pad": "x" * 200} for i in range(rows)]
        write_results(batch, sink="jsonl", path=out)

    threads = [threading.Thread(target=append, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    lines = read_lines(out)
    assert len(lines) == writers * rows
    for start in range(0, len(lines), rows):
        batch = lines[start:start + rows]
        assert {line["writer"] for line in batch} == {batch[0]["writer"]}
        assert [line["row"] for line in batch] == list(range(rows))


def test_a_path_that_cannot_be_a_file_is_a_clear_error(kepler_home, scores, tmp_path):
    folder = tmp_path / "a-folder"
    folder.mkdir()
    with pytest.raises(KeplerError, match="Cannot open .*a-folder to append results") as caught:
        write_results(scores, sink="jsonl", path=folder)
    assert "writable" in caught.value.hint
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(KeplerError, match="Cannot open"):
        write_results(scores, sink="jsonl", path=blocker / "scores.jsonl")


def test_an_empty_batch_writes_nothing(kepler_home, scores, tmp_path):
    report = write_results(scores.head(0), sink="jsonl", path=tmp_path / "none.jsonl")
    assert (report.rows, report.bytes) == (0, 0)
    assert not (tmp_path / "none.jsonl").exists()


@pytest.mark.parametrize(("data", "message"), [
    ("just text", "writes rows, not a 'str'"),
    (42, "writes rows, not a 'int'"),
])
def test_data_that_is_not_rows_is_refused(kepler_home, tmp_path, data, message):
    with pytest.raises(KeplerError, match=message):
        write_results(data, sink="jsonl", path=tmp_path / "x.jsonl")


def test_an_unknown_option_is_refused(kepler_home, scores, tmp_path):
    with pytest.raises(KeplerError, match="no option 'index'") as caught:
        write_results(scores, sink="jsonl", path=tmp_path / "x.jsonl", index="ml")
    assert "path=FILE" in caught.value.hint
