"""kepler-edge's plugin module: records only, so listing plugins imports no onnx, onnxruntime
or scikit-learn.

- deployment target ``edge`` (``kepler deploy MODEL --target edge -o out=DIR``);
- command ``kepler models export MODEL --format onnx``;
- SDK functions ``kp.models.to_onnx`` and ``kp.deploy.to_edge``;
- config section ``edge`` (bundle defaults: platform, python, tolerance);
- compiler ``onnxruntime`` (plugin API 1.7): ``kepler serve`` scores a model through its ONNX
  export when the export passes its parity check.
"""

from __future__ import annotations

from collections.abc import Iterator

from kepler.api import (
    CommandSpec,
    CompilerSpec,
    ConfigSectionSpec,
    DeployerSpec,
    SdkFunctionSpec,
    hookimpl,
)

#: Plugin API 1.7: ``kepler.api`` as the one module of core used here, ``target=`` records,
#: compilers for serving.
KEPLER_PLUGIN_API = ">=1.7,<2"


@hookimpl
def kepler_deployers() -> Iterator[DeployerSpec]:
    yield DeployerSpec(name="edge", target="kepler_edge.deployer:EdgeDeployer",
                       description="An offline bundle for a device: ONNX model, wheels, a tiny "
                       "runner, store-and-forward to Splunk HEC.",
                       features="offline install, no autoscaling; you copy the bundle")


@hookimpl
def kepler_commands() -> Iterator[CommandSpec]:
    yield CommandSpec(name="export", parent="models", target="kepler_edge.cli:export",
                      help="Export a model to ONNX, checked against the native model.")


@hookimpl
def kepler_sdk_functions() -> Iterator[SdkFunctionSpec]:
    yield SdkFunctionSpec(namespace="models", name="to_onnx", target="kepler_edge.sdk:to_onnx",
                          description="Export a model to ONNX with a parity check.")
    yield SdkFunctionSpec(namespace="deploy", name="to_edge", target="kepler_edge.sdk:to_edge",
                          description="Write an offline edge bundle (ONNX + runner + wheels).")


@hookimpl
def kepler_config_sections() -> Iterator[ConfigSectionSpec]:
    yield ConfigSectionSpec(name="edge", target="kepler_edge.config:EdgeSettings",
                            description="Edge bundles: target platform and Python, parity "
                            "tolerance.")


@hookimpl
def kepler_compilers() -> Iterator[CompilerSpec]:
    # the tolerance is the export's default parity tolerance (kepler_edge.export), kept here as
    # a literal so listing plugins imports nothing heavy
    yield CompilerSpec(name="onnxruntime", target="kepler_edge.compiler:compile_model",
                       priority=20, tolerance=1e-5,
                       description="Score served models through their ONNX export "
                       "(onnxruntime), when its parity check passes.")
