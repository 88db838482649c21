"""Page rendering must not be the bottleneck of Kepler's benchmark (1,000,000 rows x 12 fields).

Prints the measured throughput (``pytest -s`` shows it) and asserts a floor far below what the
development machine reaches (~0.9 M rows/s json, ~1.7 M rows/s csv), so slow CI does not flake.
"""

from __future__ import annotations

import time

import pytest
from kepler_splunk_testing import generate_sensor_data
from kepler_splunk_testing.datasets import Index, to_dataset
from kepler_splunk_testing.render import render_page
from kepler_splunk_testing.results import EVENT_FIELDS, ResultSet

PAGE = 50_000


@pytest.fixture(scope="module")
def events() -> ResultSet:
    dataset = to_dataset(generate_sensor_data(150_000), require_time=True).newest_first()
    fields = tuple(sorted({*dataset.fields, *EVENT_FIELDS}))
    return ResultSet(dataset, slice(0, dataset.num_rows), fields, Index("pumps", "event", dataset))


@pytest.mark.parametrize(("mode", "floor"), [("json", 150_000), ("csv", 250_000)])
def test_page_throughput(events: ResultSet, mode: str, floor: int) -> None:
    timings = []
    for offset in (0, PAGE, 2 * PAGE, 0, PAGE):
        started = time.perf_counter()
        page = events.page(offset, PAGE)
        chunks = render_page(mode, page, preview=False, messages=[], init_offset=offset)
        size = sum(len(chunk) for chunk in chunks)
        timings.append(time.perf_counter() - started)
    rate = PAGE / min(timings)
    print(f"\n{mode}: {rate:,.0f} rows/s ({size / 1e6:.1f} MB per {PAGE:,}-row page)")
    assert rate > floor
