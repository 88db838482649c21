"""The SDK namespaces ``kp.data``, ``kp.train``, ``kp.models``, ``kp.deploy``, ``kp.results``,
``kp.env``: thin, lazy views over what the installed plugins contribute.

A name resolves, on first access, to the function a plugin registered with
``kepler_sdk_functions`` (``kp.data.from_splunk``) or, in ``kp.train``, to a trainer registered
with ``kepler_trainers`` (``kp.train.random_forest``). ``dir()`` lists them, so Jupyter completes
them. A name whose plugin is missing, disabled or broken raises an error that says exactly which
distribution to install or which plugin to enable.
"""

from __future__ import annotations

import difflib
from typing import Any

from .errors import CapabilityNotInstalledError
from .namespaces import NAMESPACES
from .records import SdkFunctionSpec, TrainerSpec


class Namespace:
    """One SDK namespace; attributes are resolved from the plugins on first use."""

    def __init__(self, name: str) -> None:
        self._name = name
        self.__doc__ = NAMESPACES[name].sdk

    def __repr__(self) -> str:
        return f"<kepler namespace kp.{self._name}: {', '.join(self._names()) or 'empty'}>"

    def _sdk_records(self) -> list[Any]:
        from .plugins import get_host

        return [r for r in get_host().records(SdkFunctionSpec) if r.namespace == self._name]

    def _trainer_records(self) -> list[Any]:
        from .plugins import get_host

        return get_host().records(TrainerSpec) if self._name == "train" else []

    def _names(self) -> list[str]:
        names = {r.name for r in self._sdk_records()} | {r.name for r in self._trainer_records()}
        return sorted(names)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._names()))

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_"):
            raise AttributeError(attr)
        from .records import import_string

        matches = [r for r in self._sdk_records() if r.name == attr]
        if len(matches) > 1:
            from .plugins.manager import conflict

            raise conflict(matches)
        if matches:
            return import_string(matches[0].target)
        trainers = [r for r in self._trainer_records() if r.name == attr]
        if len(trainers) > 1:
            from .plugins.manager import conflict

            raise conflict(trainers)
        if trainers:
            return _trainer_function(trainers[0])
        raise missing(self._name, attr, self._names())


def missing(namespace: str, attr: str, names: list[str] | None = None, *,
            label: str | None = None) -> CapabilityNotInstalledError:
    """The error for ``kp.<namespace>.<attr>`` that no enabled plugin provides: which
    distribution to install, which plugin to enable, or the closest existing name. ``label``
    is how the caller names it (the CLI says ``kepler train xgboost``)."""
    from .catalogue import provider
    from .installs import pip_install
    from .plugins import get_host

    if names is None:
        names = Namespace(namespace)._names()
    label = label or f"kp.{namespace}.{attr}"
    distribution = provider("sdk", f"{namespace}.{attr}")
    if distribution is None and namespace == "train":
        distribution = provider("trainers", attr)
    if namespace == "commands":
        distribution = provider("commands", attr)
    if distribution is None:
        close = difflib.get_close_matches(attr, names, n=1)
        available = ", ".join(names) or "none (no plugin contributes any)"
        return CapabilityNotInstalledError(
            f"{label} does not exist." + (f" Did you mean {close[0]!r}?" if close else ""),
            hint=f"Available in kp.{namespace}: {available}. "
            "'kepler plugins list' shows what is installed.",
        )
    base = distribution.split("[")[0]
    for info in get_host().plugins():
        if info.distribution == base and info.status != "enabled":
            reason = f": {info.error}" if info.error else ""
            return CapabilityNotInstalledError(
                f"{label} is provided by {base}, whose plugin {info.name!r} is "
                f"{info.status}{reason}.",
                hint=f"kepler plugins enable {info.name}" if info.status == "disabled"
                else f"Reinstall it: pip install --force-reinstall {base}",
            )
    return CapabilityNotInstalledError(
        f"{label} is provided by {distribution}, which is not installed.",
        hint=pip_install(distribution),
    )


def _trainer_function(spec: Any) -> Any:
    """``kp.train.<name>``: build the trainer with the config in force, save the model when asked
    (``save=True``: next version in the registry) and fire after-train with the artifact."""

    def train(data: Any, target: str | None = None, *, save: bool = False,
              force: bool = False, **params: Any) -> Any:
        from .config import load

        trainer = spec.create(load())
        model = trainer.train(data, target=target, **params)
        return finish_training(spec.name, model, save=save, force=force)

    train.__name__ = spec.name
    train.__qualname__ = f"train.{spec.name}"
    origin = spec.framework or spec.distribution
    train.__doc__ = spec.description or f"Train {spec.name} ({origin})."
    return train


def finish_training(trainer: str, model: Any, *, save: bool = False, force: bool = False) -> Any:
    """Save ``model`` when asked (``force``: a new version even when an identical one exists),
    then fire ``kepler_after_train`` with it. Trainers reached outside ``kp.train.<name>``
    (``kp.train.sklearn``, ``kp.train.compare``) call this too."""
    from .plugins import get_host
    from .records import TrainEvent

    if save:
        saver = getattr(model, "save", None)
        if not callable(saver):
            from .errors import TrainingError

            raise TrainingError(f"Trainer {trainer!r} returned {type(model).__name__}, which "
                                "cannot be saved.",
                                hint="Trainers must return a kepler.model.Model.")
        saver(force=True) if force else saver()
    path = getattr(model, "path", None)
    get_host().fire(
        TrainEvent(trainer=trainer, model=model, metrics=getattr(model, "metrics", {}) or {},
                   artifact_path=str(path) if path else None,
                   model_name=getattr(model, "name", None),
                   version=getattr(model, "version", None)),
    )
    return model


__all__ = ["NAMESPACES", "Namespace", "finish_training", "missing"]
