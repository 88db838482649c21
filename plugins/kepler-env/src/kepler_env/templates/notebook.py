"""The starter notebook (nbformat 4.5 JSON) every template writes.

It runs against the local Splunk test server of kepler-splunk-testing (``kepler_splunk_testing``,
a distribution of its own, so the notebook says to ``pip install kepler-splunk-testing``): a
Splunk REST API on 127.0.0.1 loaded with synthetic pump sensors, so the notebook works on a laptop
with no Splunk at all; the same ``kp.data.from_splunk`` call then works against the real one.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from kepler.api import TemplateContext

from .content import Template

SERVER_CELL = """\
import os

import kepler as kp
# The test server is not part of kepler-splunk: `pip install kepler-splunk-testing` first.
from kepler_splunk_testing import SplunkTestServer, generate_sensor_data

# A local Splunk (REST API) with synthetic pump sensors. To use your own Splunk instead, set
# splunk.host in kepler.yml, run `kepler secrets set splunk-token`, and skip this cell.
server = SplunkTestServer().start()
server.add_index("pumps", generate_sensor_data(20_000, seed=7))
os.environ.update({
    "KEPLER_SPLUNK__HOST": server.host,
    "KEPLER_SPLUNK__PORT": str(server.port),
    "KEPLER_SPLUNK__SCHEME": server.scheme,
    "KEPLER_SPLUNK__TOKEN": server.token,
})"""

STOP_CELL = "server.stop()"


def _cell_id(context: TemplateContext, index: int) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"kepler:{context.name}:{index}").hex[:8]


def _source(text: str) -> list[str]:
    lines = text.splitlines(keepends=True)
    return lines if lines else [""]


def notebook(context: TemplateContext, template: Template) -> str:
    """The notebook as JSON text (cell ids are stable, so re-rendering gives the same file)."""
    cells: list[dict[str, Any]] = []

    def markdown(text: str) -> None:
        cells.append({"cell_type": "markdown", "id": _cell_id(context, len(cells)),
                      "metadata": {}, "source": _source(text)})

    def code(text: str) -> None:
        cells.append({"cell_type": "code", "id": _cell_id(context, len(cells)),
                      "execution_count": None, "metadata": {}, "outputs": [],
                      "source": _source(text)})

    markdown(f"# {context.name}: {template.name}\n\n{template.summary}\n\n"
             "Run it in the project's environment: `kepler env create`, then `kepler env kernel` "
             f"and pick the kernel **{context.name}**.")
    code(SERVER_CELL)
    markdown("## Pull the data with your own SPL")
    code(f'df = kp.data.from_splunk("{template.spl}")\n'
         'print(df.shape)\ndf.head()')
    markdown("## A first model")
    for cell in template.model_cells:
        code(cell)
    markdown("Next: compare algorithms, then ship the model (`kepler deploy`).")
    code(STOP_CELL)
    document = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": f"Python ({context.name})", "language": "python",
                           "name": context.name.lower()},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"
