"""The shapes of the objects behind plugin records.

A record's ``factory`` is called with the resolved :class:`kepler.config.Config` and returns an
object of one of these Protocols. They are deliberately small: a plugin may offer more, but core and
the other plugins rely only on what is here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from .records import Deployment


@runtime_checkable
class Connector(Protocol):
    """Pulls data out of a source with the source's own query language."""

    def query(self, query: str, **options: Any) -> Any:
        """Run ``query`` and return the rows (a pandas DataFrame for tabular sources)."""
        ...


@runtime_checkable
class Trainer(Protocol):
    """Trains one algorithm; ``kp.train.<name>(data, target=...)`` calls :meth:`train`."""

    def train(self, data: Any, *, target: str | None = None, **params: Any) -> Any:
        """Fit on ``data`` and return a model object."""
        ...


@runtime_checkable
class Deployer(Protocol):
    """Ships a model somewhere it answers requests (the shape mlflow's deployment plugins use)."""

    def create(self, name: str, model: str, config: Mapping[str, Any]) -> Deployment: ...

    def update(self, name: str, model: str, config: Mapping[str, Any]) -> Deployment: ...

    def delete(self, name: str) -> None: ...

    def list(self) -> list[Deployment]: ...

    def get(self, name: str) -> Deployment: ...

    def predict(self, name: str, data: Any) -> Any: ...


@runtime_checkable
class EnvManager(Protocol):
    """Creates and maintains a project's isolated Python environment."""

    def create(self, project: Path, options: Mapping[str, Any]) -> Path:
        """Create the environment and return its location."""
        ...

    def update(self, project: Path, options: Mapping[str, Any]) -> None: ...

    def lock(self, project: Path, options: Mapping[str, Any]) -> Path:
        """Write the lock file and return its path."""
        ...

    def sync(self, project: Path, options: Mapping[str, Any]) -> None: ...

    def check(self, project: Path, options: Mapping[str, Any]) -> Iterable[str]:
        """Return human-readable conflict reports; empty when the environment is consistent."""
        ...

    def remove(self, project: Path, options: Mapping[str, Any]) -> None: ...

    def run(self, project: Path, command: list[str], options: Mapping[str, Any]) -> int: ...


@runtime_checkable
class Sink(Protocol):
    """Writes results somewhere people look at them."""

    def write(self, data: Any, **options: Any) -> Any:
        """Write ``data`` and return a report of what was delivered."""
        ...
