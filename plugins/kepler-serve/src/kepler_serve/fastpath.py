"""The fast path: a model format's compiled scorer, used only once it is proven identical.

A format plugin may offer a compiled scorer for a model (``ModelFormatSpec.compiled``, reached
through :meth:`kepler.api.Model.compiled`): the same answers as the model's own ``predict`` on
validated records, without the framework's per-call overhead (a DataFrame per request...). The
server never takes that on trust: :func:`compile_model` scores rows drawn from the feature
schema both ways and keeps the compiled scorer only when predictions and probabilities are
*equal* (``numpy.array_equal``, same dtype), bit for bit. Anything else (no compiled scorer, an
error, one differing value) leaves the model on its own path.

Before the format's own scorer, the server tries the installed compilers
(``kepler.api.CompilerSpec``, plugin API 1.7; kepler-edge's ``onnxruntime``), highest priority
first. A compiler may round (ONNX computes in float32), so its check is within the record's
``tolerance``: labels equal on every row, probabilities and regression values within the
tolerance. One that cannot compile the model, or fails its check, is passed over with a warning
naming why; ``serve.compiler`` picks one by name, or ``format`` for the format's own only.
"""

from __future__ import annotations

import datetime as _dt
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


def sample_rows(schema: Any, count: int = 200, seed: int = 0,
                tolerance: Any = None) -> list[dict[str, Any]]:
    """Records drawn from a feature schema: its ranges, every category, missing optional values,
    values beyond the training range; what the parity check scores both ways. With a
    :class:`~kepler_serve.tolerance.Tolerance`, also what the API then lets through: nulls in
    the features the model imputes, categories never seen in training."""
    from .tolerance import UNSEEN

    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = [{} for _ in range(count)]
    nullable = tolerance.nullable if tolerance is not None else frozenset()
    unseen = tolerance.open_categories if tolerance is not None else frozenset()
    for feature in schema:
        kind = feature.kind
        for i, row in enumerate(rows):
            if (not feature.required or feature.name in nullable) and i % 7 == 3:
                row[feature.name] = None
                continue
            if feature.name in unseen and i % 13 == 6:
                row[feature.name] = f"{UNSEEN} {i}"
                continue
            if kind in ("number", "integer"):
                low = feature.min if isinstance(feature.min, float | int) else 0.0
                high = feature.max if isinstance(feature.max, float | int) else 1.0
                spread = (high - low) or 1.0
                value = float(rng.uniform(low - 0.1 * spread, high + 0.1 * spread))
                if i % 11 == 0:
                    value = float(feature.mean if feature.mean is not None else low)
                row[feature.name] = round(value) if kind == "integer" else round(value, 4)
            elif kind == "boolean":
                row[feature.name] = bool(i % 2)
            elif kind == "category":
                values = feature.categories or ["a"]
                row[feature.name] = values[i % len(values)]
            elif kind == "datetime":
                start = _dt.datetime(2024, 1, 1, tzinfo=_dt.UTC)
                row[feature.name] = start + _dt.timedelta(minutes=int(rng.integers(0, 600_000)))
            else:
                row[feature.name] = f"text-{i}"
    return rows


def same(a: Any, b: Any) -> bool:
    """Bit-identical: same shape, same dtype, equal values."""
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(a, b))


def predict_and_proba(compiled: Any, rows: list[dict[str, Any]]) -> tuple[Any, Any]:
    """Predictions and probabilities in one pass where the scorer offers it
    (``predict_and_proba``), else with two calls."""
    both = getattr(compiled, "predict_and_proba", None)
    if callable(both):
        return both(rows)  # type: ignore[no-any-return]
    return compiled.predict(rows), compiled.predict_proba(rows)


def _checks(model: Any, compiled: Any, rows: list[dict[str, Any]]) -> list[tuple[str, Any, Any]]:
    """(what, the model's answer, the compiled scorer's answer) for every output served."""
    expected = model.predict(rows)
    checks = [("predictions", expected, compiled.predict(rows))]
    if model.task == "classification" and callable(
            getattr(model.predictor, "predict_proba", None)):
        try:
            reference = model.predict_proba(rows)
        except Exception:
            reference = None
        if reference is not None:
            both = predict_and_proba(compiled, rows)
            checks += [("probabilities", reference, compiled.predict_proba(rows)),
                       ("predictions", expected, both[0]),
                       ("probabilities", reference, both[1])]
    if model.task == "anomaly" and callable(getattr(model.predictor, "score_samples", None)) \
            and callable(getattr(compiled, "score_samples", None)):
        checks.append(("anomaly scores", model.score_samples(rows), compiled.score_samples(rows)))
    return checks


def close(what: str, expected: Any, got: Any, tolerance: float) -> bool:
    """Within a compiler's ``tolerance``: class labels equal, numbers within it (absolute,
    relative beyond 1)."""
    a, b = np.asarray(expected), np.asarray(got)
    if a.shape != b.shape:
        return False
    if what == "predictions" and (a.dtype.kind not in "fc" or b.dtype.kind not in "fc"):
        return bool(a.tolist() == b.tolist())  # labels: equal values, whatever their dtype
    a, b = a.astype(np.float64), b.astype(np.float64)
    return bool(np.allclose(a, b, rtol=tolerance, atol=tolerance, equal_nan=True))


@dataclass(frozen=True)
class Candidate:
    """One way to compile a model: a compiler record's, or the model format's own."""

    name: str
    tolerance: float
    build: Callable[[Any], Any]


def candidates(model: Any, choice: str = "auto") -> list[Candidate]:
    """The compilers to try for ``model``, in order: installed compilers of positive priority
    (highest first), the model format's own (``fast``), compilers of priority 0 or less.
    ``choice`` is ``auto``, a compiler's name (then only it and the format's own) or
    ``format``."""
    from kepler.api import CompilerSpec, ConfigError, import_string, records

    compilers = records(CompilerSpec)
    if choice not in ("auto", "format", *(r.name for r in compilers)):
        raise ConfigError(f"serve.compiler {choice!r} is not an installed compiler.",
                          hint="Use auto, format, or one of: "
                          + (", ".join(r.name for r in compilers) or "(none installed)")
                          + ". kepler plugins list shows the compilers.")
    fmt = model.manifest.format.name
    chosen = [r for r in compilers if choice in ("auto", r.name)
              and (not r.formats or fmt in r.formats)] if choice != "format" else []
    ranked = [(0, Candidate(FORMAT, 0.0, lambda m: m.compiled()))]
    ranked += [(r.priority, Candidate(r.name, r.tolerance, _builder(import_string, r.target)))
               for r in chosen]
    # a stable sort: the format's own, listed first, stays ahead of compilers of priority 0
    return [candidate for _, candidate in sorted(ranked, key=lambda entry: -entry[0])]


def _builder(import_string: Any, target: str) -> Callable[[Any], Any]:
    return lambda model: import_string(target)(model)


#: The name under which the model format's own compiled scorer is reported.
FORMAT = "fast"


def compile_model(model: Any, *, check_rows: int = 200,
                  tolerance: Any = None) -> tuple[Any | None, str]:
    """The model format's own compiled scorer for ``model`` and why (or why not) it is used:
    kept only when it scores the check rows exactly as the model itself does."""
    compiled, note, _ = choose_compiled(model, check_rows=check_rows, tolerance=tolerance,
                                        compiler="format")
    return compiled, note.removeprefix(f"{FORMAT} ")


def choose_compiled(model: Any, *, check_rows: int = 200, tolerance: Any = None,
                    compiler: str = "auto") -> tuple[Any | None, str, str]:
    """The first compiled scorer for ``model`` that passes its check, the note saying why it
    (or none) is used, and its name (``fast`` for the model format's own, ``model`` for none).

    Each is checked on ``check_rows`` rows drawn from the schema, including the nulls and
    unseen categories the model tolerates (found by :func:`kepler_serve.tolerance.probe`
    unless ``tolerance`` is given): the format's own must score exactly as the model does, a
    compiler within its record's tolerance."""
    if tolerance is None:
        from .tolerance import probe

        tolerance = probe(model)
    rows = sample_rows(model.schema, check_rows, tolerance=tolerance)
    passed_over: list[str] = []
    for candidate in candidates(model, compiler):
        compiled, note = _try(candidate, model, rows)
        if compiled is not None:
            return compiled, "; ".join([note, *passed_over]), candidate.name
        passed_over.append(f"{candidate.name} {note}")
        if candidate.name != FORMAT:
            log.warning("compiler %s passed over for %s: %s", candidate.name, model.name, note)
    return None, "; ".join(passed_over), "model"


def _try(candidate: Candidate, model: Any, rows: list[dict[str, Any]]) -> tuple[Any | None, str]:
    """``candidate``'s scorer for ``model`` and a note, or None and why it is not used."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compiled = candidate.build(model)
    except Exception as exc:  # a fitted object of an unexpected shape: stay on the safe path
        log.debug("%s compilation failed", candidate.name, exc_info=True)
        return None, f"not compiled: {type(exc).__name__}: {exc}"
    if compiled is None:
        return None, f"not compiled: the {model.manifest.format.name!r} format offers no " \
            "compiled scorer for this model"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the unseen categories of the check rows warn
            checks = _checks(model, compiled, rows)
    except Exception as exc:
        log.debug("%s parity check failed to run", candidate.name, exc_info=True)
        return None, f"not used: the parity check failed to run ({type(exc).__name__}: {exc})"
    for what, expected, got in checks:
        ok = same(expected, got) if candidate.tolerance == 0 else \
            close(what, expected, got, candidate.tolerance)
        if not ok:
            return None, f"not used: its {what} differ from the model's on the check rows"
    description = getattr(compiled, "description", "") or type(compiled).__name__
    agreement = "identical to" if candidate.tolerance == 0 else \
        f"within {candidate.tolerance:g} of"
    return compiled, f"{description}; {agreement} the model on {len(rows)} check rows"


__all__ = ["Candidate", "candidates", "choose_compiled", "close", "compile_model",
           "predict_and_proba", "same", "sample_rows"]
