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
import inspect
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
    (``save=True``: next version in the registry) and fire after-train with the artifact.

    The returned function carries the trainer's own keywords (:func:`trainer_signature`) so
    ``help()``, ``inspect.signature`` and Jupyter's Shift-Tab show ``features``, ``split``...
    rather than ``**params``."""

    def train(data: Any, target: str | None = None, *, save: bool = False,
              force: bool = False, **params: Any) -> Any:
        from .config import load

        trainer = spec.create(load())
        model = trainer.train(data, target=target, **params)
        return finish_training(spec.name, model, save=save, force=force)

    train.__name__ = spec.name
    train.__qualname__ = f"train.{spec.name}"
    origin = spec.framework or spec.distribution
    summary = spec.description or f"Train {spec.name} ({origin})."
    documented = _documented(spec)
    if documented is not None:
        train.__signature__ = trainer_signature(documented)  # type: ignore[attr-defined]
        doc = inspect.getdoc(documented)
        summary = f"{summary}\n\n{doc}" if doc else summary
    train.__doc__ = summary
    return train


def _documented(spec: Any) -> Any:
    """The callable whose parameters document a trainer: its record's ``signature``, else the
    ``train`` method of a class target; None when neither exists (a plain factory function)."""
    from .records import import_string

    if getattr(spec, "signature", ""):
        return import_string(spec.signature)
    factory = import_string(spec.target)
    method = getattr(factory, "train", None) if isinstance(factory, type) else None
    return method if callable(method) else None


_CORE_KEYWORDS = (
    inspect.Parameter("save", inspect.Parameter.KEYWORD_ONLY, default=False, annotation="bool"),
    inspect.Parameter("force", inspect.Parameter.KEYWORD_ONLY, default=False, annotation="bool"),
)


def trainer_signature(documented: Any) -> inspect.Signature:
    """``kp.train.<name>``'s signature: ``data`` and ``target`` first, the trainer's own keywords,
    then core's ``save`` and ``force`` (which the wrapper handles) unless the trainer has them."""
    source = inspect.signature(documented)
    params = [p for p in source.parameters.values() if p.name != "self"]
    named = {p.name for p in params}
    data = inspect.Parameter("data", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    target = inspect.Parameter("target", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None,
                               annotation="str | None")
    head = [data, target]
    rest = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
            if p.kind is not inspect.Parameter.VAR_KEYWORD else p
            for p in params if p.name not in ("data", "target")
            and p.kind is not inspect.Parameter.VAR_POSITIONAL]
    extra = [p for p in _CORE_KEYWORDS if p.name not in named]
    variadic = [p for p in rest if p.kind is inspect.Parameter.VAR_KEYWORD]
    keywords = [p for p in rest if p.kind is not inspect.Parameter.VAR_KEYWORD]
    return source.replace(parameters=head + keywords + extra + variadic)


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


__all__ = ["NAMESPACES", "Namespace", "finish_training", "missing", "trainer_signature"]
