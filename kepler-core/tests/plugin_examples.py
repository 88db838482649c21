"""In-process plugins used by the tests: one per kind of hook."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import click
from kepler.artifact import FormatInfo, ModelManifest, TargetInfo, TrainerInfo
from kepler.hookspecs import hookimpl
from kepler.lineage import Lineage
from kepler.model import Model
from kepler.records import (
    CheckResult,
    CommandSpec,
    ConfigSectionSpec,
    ConnectorSpec,
    DeployerSpec,
    Deployment,
    EnvManagerSpec,
    ModelFormatSpec,
    ProjectTemplateSpec,
    SdkFunctionSpec,
    SinkSpec,
    TrainerSpec,
)
from pydantic import BaseModel, ConfigDict, SecretStr

KEPLER_PLUGIN_API = ">=1.0,<2"


class WidgetSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    host: str = "localhost"
    port: int = 8089
    token: SecretStr | None = None
    verify: bool = True
    profiles: dict[str, dict[str, Any]] = {}


class EchoConnector:
    def __init__(self, config):
        self.settings = config.section("widget")

    def query(self, query, **options):
        return [{"query": query, "host": self.settings.host, **options}]


class MeanTrainer:
    """A whole trainer in a few lines: the core Model, manifest and 'mean-json' format."""

    def __init__(self, config):
        self.config = config

    def train(self, data, *, target=None, name=None, **params):
        rows = data.to_dict("records") if hasattr(data, "to_dict") else data
        values = [row[target] for row in rows]
        mean = sum(values) / len(values)
        score = params.pop("score", None)  # lets tests make models with chosen metrics
        metrics = {"mean": mean} if score is None else {"mean": mean, "rmse": float(score)}
        lineage = Lineage()
        if params.pop("lineage", False):  # lets tests make models whose data hash is known
            text = json.dumps(rows, sort_keys=True).encode()
            lineage = Lineage(rows=len(rows), data_sha256=hashlib.sha256(text).hexdigest())
        manifest = ModelManifest(
            name=name or f"{target}-mean", task="regression", algorithm="mean",
            target=TargetInfo(name=target, dtype="float"),
            trainer=TrainerInfo(name="mean", plugin="widget", framework="pure-python"),
            metrics=metrics, baseline={"rmse": 10.0} if score is not None else {},
            main_metric="rmse" if score is not None else None, params=params,
            lineage=lineage, format=FormatInfo(name="mean-json"))
        return Model(manifest, MeanPredictor(mean))


class MeanPredictor:
    def __init__(self, mean):
        self.mean = mean

    def predict(self, rows):
        return [self.mean for _ in range(len(rows))]


def save_mean(predictor, folder):
    (folder / "mean.json").write_text(json.dumps({"mean": predictor.mean}))
    return {"encoding": "json"}


def load_mean(folder, options, **load_options):
    assert options == {"encoding": "json"}
    return MeanPredictor(json.loads((folder / "mean.json").read_text())["mean"])


class MemoryDeployer:
    def __init__(self, config):
        self.deployments = {}

    def create(self, name, model, config):
        self.deployments[name] = Deployment(name=name, target="memory", model=model,
                                            status="ready", url=f"memory://{name}")
        return self.deployments[name]

    update = create

    def delete(self, name):
        self.deployments.pop(name)

    def list(self):
        return list(self.deployments.values())

    def get(self, name):
        return self.deployments[name]

    def status(self, name):
        return self.deployments[name]

    def predict(self, name, data):
        return [0 for _ in data]

    def logs(self, name, lines=100):
        return [f"{name} is served from memory"][-lines:]

    def build(self, model, out, config):
        out.mkdir(parents=True, exist_ok=True)
        (out / "Dockerfile").write_text(f"FROM scratch\n# {model}\n")
        return out


class ListSink:
    def __init__(self, config):
        self.rows = []

    def write(self, data, **options):
        self.rows.extend(data)
        return {"written": len(data)}


class FolderEnvManager:
    def __init__(self, config):
        pass

    def create(self, project, options):
        env = project / ".envs" / "folder"
        env.mkdir(parents=True)
        return env

    def update(self, project, options):
        pass

    def lock(self, project, options):
        lock = project / "requirements.lock"
        lock.write_text("")
        return lock

    def sync(self, project, options):
        pass

    def check(self, project, options):
        return []

    def remove(self, project, options):
        pass

    def run(self, project, command, options):
        return 0

    def python(self, project, options):
        return project / ".envs" / "folder" / "bin" / "python"


def render_widget_template(context):
    return {"kepler.yml": f"project:\n  name: {context.name}\nwidget:\n  host: plant\n",
            "data/README.md": "raw data goes here\n", "logo.bin": b"\x00\x01"}


@click.command()
@click.argument("who", default="world")
def hello(who):
    """Say hello."""
    click.echo(f"hello {who}")


def double(x):
    """Double x."""
    return 2 * x


class WidgetPlugin:
    """Implements every registration hook and the checks hook."""

    def __init__(self):
        self.events = []

    @hookimpl
    def kepler_connectors(self):
        yield ConnectorSpec(name="widget", target="plugin_examples:EchoConnector")

    @hookimpl
    def kepler_trainers(self):
        yield TrainerSpec(name="mean", target="plugin_examples:MeanTrainer",
                          tasks=("regression",), framework="pure-python",
                          description="Predict the training mean.")

    @hookimpl
    def kepler_deployers(self):
        yield DeployerSpec(name="memory", target="plugin_examples:MemoryDeployer")

    @hookimpl
    def kepler_env_managers(self):
        yield EnvManagerSpec(name="folder", target="plugin_examples:FolderEnvManager")

    @hookimpl
    def kepler_sinks(self):
        yield SinkSpec(name="list", target="plugin_examples:ListSink")

    @hookimpl
    def kepler_project_templates(self):
        yield ProjectTemplateSpec(name="widget", target="plugin_examples:render_widget_template",
                                  description="Widget project")

    @hookimpl
    def kepler_commands(self):
        yield CommandSpec(name="hello", target="plugin_examples:hello", help="Say hello.")
        yield CommandSpec(name="widget", parent="data", target="plugin_examples:hello",
                          help="Pull widgets.")
        yield CommandSpec(name="widget-key", parent="secrets rotate",
                          target="plugin_examples:hello", help="Rotate the widget key.")

    @hookimpl
    def kepler_config_sections(self):
        yield ConfigSectionSpec(name="widget", target="plugin_examples:WidgetSettings")

    @hookimpl
    def kepler_sdk_functions(self):
        yield SdkFunctionSpec(namespace="data", name="double", target="plugin_examples:double")

    @hookimpl
    def kepler_model_formats(self):
        yield ModelFormatSpec(name="mean-json", save="plugin_examples:save_mean",
                              load="plugin_examples:load_mean", framework="pure-python",
                              install="kepler-widget")

    @hookimpl
    def kepler_validate(self, config):
        settings = config.section("widget")
        yield CheckResult(check="widget reachable",
                          status="pass" if settings.host != "unreachable" else "fail",
                          detail=settings.host, hint="Set widget.host to a reachable host.")


@click.command()
@click.option("--data")
def train_median(data):
    """Train a median with its own options."""
    click.echo(f"explicit median command, data={data}")


class MedianPlugin:
    """A trainer that also registers its own 'kepler train median' command (which wins)."""

    @hookimpl
    def kepler_trainers(self):
        yield TrainerSpec(name="median", target="plugin_examples:MeanTrainer",
                          tasks=("regression",), description="Predict the median.")

    @hookimpl
    def kepler_commands(self):
        yield CommandSpec(name="median", parent="train", target="plugin_examples:train_median",
                          help="Median, with its own options.")


class Subscriber:
    """Implements every lifecycle hook, recording what it receives."""

    def __init__(self):
        self.events = []

    @hookimpl
    def kepler_after_extract(self, event):
        self.events.append(("extract", event))

    @hookimpl
    def kepler_after_train(self, event):
        self.events.append(("train", event))

    @hookimpl
    def kepler_after_deploy(self, event):
        self.events.append(("deploy", event))

    @hookimpl
    def kepler_after_predictions(self, event):
        self.events.append(("predictions", event))
