"""An in-test plugin for the notebook tests: a connector with a query option, a magic, and a
trainer whose record names the function documenting its keywords."""

from __future__ import annotations

from kepler.api import ConnectorSpec, MagicSpec, TrainerSpec, hookimpl

#: Every query the connector received, with its options, for the tests to read.
QUERIES: list[tuple[str, dict]] = []


class Rows(list):
    """A list of rows with ``attrs``, as a DataFrame carries its lineage."""

    def __init__(self, rows):
        super().__init__(rows)
        self.attrs = {"sid": "echo-1"}


class EchoConnector:
    def __init__(self, config):
        self.config = config

    def query(self, query, **options):
        QUERIES.append((query, options))
        return Rows([{"query": query}])


def shout(line, cell=None):
    """A plugin's own magic: ``%shout words``."""
    return (cell or line).upper()


def documented_train(data, *, target=None, alpha: float = 1.0, **params):
    """Fit the toy model; ``alpha`` smooths it."""


class NotebookPlugin:
    @hookimpl
    def kepler_connectors(self):
        yield ConnectorSpec(name="echo", target="notebook_examples:EchoConnector",
                            query_option="eql")

    @hookimpl
    def kepler_magics(self):
        yield MagicSpec(name="shout", magic_kind="line_cell", target="notebook_examples:shout")

    @hookimpl
    def kepler_trainers(self):
        yield TrainerSpec(name="toy", target="plugin_examples:MeanTrainer",
                          signature="notebook_examples:documented_train",
                          description="A toy trainer.")
