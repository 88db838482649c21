"""Result rendering for every ``output_mode`` splunkd serves, vectorised with Arrow.

Why vectorised: Kepler's benchmark pulls 1,000,000 rows x 12 fields, and a row-by-row
``json.dumps`` renderer made the server slower than the client it was meant to measure.

Measured on the development machine (Python 3.11, pyarrow 26), pages of 50,000
``generate_sensor_data`` events (12 data fields + 13 Splunk internal fields), warm:

- json: about 0.9 M rows/s (27.6 MB per page, ~55-80 ms);
- csv: about 1.7 M rows/s (13.7 MB per page, ~30-40 ms);
- json_rows ~1.0 M rows/s, json_cols ~0.8 M rows/s, xml ~0.4 M rows/s (90 MB per page).

The first page of a dataset also pays for formatting its floats and times once (cached in
``Dataset.text_column``). ``tests/testing/test_render_speed.py`` prints the current numbers and
asserts a floor far below them, so a slow CI machine does not fail it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from kepler_splunk_testing.render.export import EXPORT_MODES, export_stream
from kepler_splunk_testing.render.pages import (
    Chunks,
    render_csv,
    render_json,
    render_json_cols,
    render_json_rows,
    render_xml,
)
from kepler_splunk_testing.results import Message, Page

__all__ = ["CONTENT_TYPES", "EXPORT_MODES", "RESULT_MODES", "export_stream", "render_page"]

_RENDERERS: dict[str, Callable[..., Chunks]] = {
    "json": render_json,
    "json_rows": render_json_rows,
    "json_cols": render_json_cols,
    "csv": render_csv,
    "xml": render_xml,
}
RESULT_MODES = tuple(_RENDERERS)

CONTENT_TYPES = {
    "json": "application/json; charset=UTF-8",
    "json_rows": "application/json; charset=UTF-8",
    "json_cols": "application/json; charset=UTF-8",
    "csv": "text/csv; charset=UTF-8",
    "xml": "text/xml; charset=UTF-8",
}


def render_page(
    mode: str, page: Page, *, preview: bool, messages: Sequence[Message], init_offset: int
) -> Chunks:
    """One page in ``mode`` (one of :data:`RESULT_MODES`) as byte chunks."""
    return _RENDERERS[mode](page, preview=preview, messages=messages, init_offset=init_offset)
