"""The SDK namespaces (``kp.data``…) and the CLI groups of the same names, in one place.

``import kepler`` reads this to know which attributes are namespaces, :class:`kepler.sdk.Namespace`
takes its docstring from here, and ``kepler data --help`` (a group that plugins fill) its help.
"""

from __future__ import annotations

from typing import NamedTuple


class NamespaceInfo(NamedTuple):
    #: The namespace's docstring in the SDK (``help(kp.data)``).
    sdk: str
    #: The help line of the CLI group of the same name.
    cli: str


NAMESPACES: dict[str, NamespaceInfo] = {
    "data": NamespaceInfo("Pull data from sources: kp.data.<function>(query, ...) from the "
                          "installed connectors.", "Pull data from sources into tables."),
    "train": NamespaceInfo("Train models: kp.train.<algorithm>(data, target=...).",
                           "Train models."),
    "models": NamespaceInfo("The model registry: list, load, compare, promote models.",
                            "Manage the model registry."),
    "deploy": NamespaceInfo("Ship models to any installed target: kp.deploy.create(model, "
                            "target=...).", "Deploy models and manage deployments."),
    "results": NamespaceInfo("Send results back through the installed sinks.",
                             "Send results and predictions to their destinations."),
    "env": NamespaceInfo("Per-project isolated Python environments.",
                         "Manage the project's isolated Python environments."),
}
