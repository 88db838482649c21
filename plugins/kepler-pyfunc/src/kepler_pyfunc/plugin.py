"""kepler-pyfunc's plugin module: records only, so listing plugins imports no pandas.

- model format ``python-code`` (what ``kepler serve``, the deployers and batch scoring load);
- SDK function ``kp.models.from_code``;
- command ``kepler models add-code``.
"""

from __future__ import annotations

from collections.abc import Iterator

from kepler.api import CommandSpec, ModelFormatSpec, SdkFunctionSpec, hookimpl

KEPLER_PLUGIN_API = ">=1.3,<2"


@hookimpl
def kepler_model_formats() -> Iterator[ModelFormatSpec]:
    yield ModelFormatSpec(name="python-code", framework="python",
                          save="kepler_pyfunc.formats:save_code",
                          load="kepler_pyfunc.formats:load_code", install="kepler-pyfunc",
                          prepare="kepler_tabular:prepare_inputs",
                          description="A model from code: your class's source and its artifact "
                          "files, loaded by importing the code (no pickle).")


@hookimpl
def kepler_sdk_functions() -> Iterator[SdkFunctionSpec]:
    yield SdkFunctionSpec(namespace="models", name="from_code",
                          target="kepler_pyfunc.sdk:from_code",
                          description="Register a model of any Python library from its code "
                          "and artifact files.")


@hookimpl
def kepler_commands() -> Iterator[CommandSpec]:
    yield CommandSpec(name="add-code", parent="models", target="kepler_pyfunc.cli:add_code",
                      help="Register a model from a Python file or package and its artifacts.")
