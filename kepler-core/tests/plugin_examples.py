"""In-process plugins used by the tests: one per kind of hook."""

from __future__ import annotations

from typing import Any

import click
from kepler.hookspecs import hookimpl
from kepler.records import (
    CheckResult,
    CommandSpec,
    ConfigSectionSpec,
    ConnectorSpec,
    DeployerSpec,
    Deployment,
    EnvManagerSpec,
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
    def __init__(self, config):
        self.config = config

    def train(self, data, *, target=None, **params):
        values = [row[target] for row in data]
        return MeanModel(sum(values) / len(values))


class MeanModel:
    def __init__(self, mean):
        self.mean = mean
        self.metrics = {"mean": mean}

    def predict(self, rows):
        return [self.mean for _ in rows]


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

    def predict(self, name, data):
        return [0 for _ in data]


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
        yield ConnectorSpec(name="widget", factory="plugin_examples:EchoConnector")

    @hookimpl
    def kepler_trainers(self):
        yield TrainerSpec(name="mean", factory="plugin_examples:MeanTrainer",
                          tasks=("regression",), framework="pure-python",
                          description="Predict the training mean.")

    @hookimpl
    def kepler_deployers(self):
        yield DeployerSpec(name="memory", factory="plugin_examples:MemoryDeployer")

    @hookimpl
    def kepler_env_managers(self):
        yield EnvManagerSpec(name="folder", factory="plugin_examples:FolderEnvManager")

    @hookimpl
    def kepler_sinks(self):
        yield SinkSpec(name="list", factory="plugin_examples:ListSink")

    @hookimpl
    def kepler_project_templates(self):
        yield ProjectTemplateSpec(name="widget", render="plugin_examples:render_widget_template",
                                  description="Widget project")

    @hookimpl
    def kepler_commands(self):
        yield CommandSpec(name="hello", target="plugin_examples:hello", help="Say hello.")
        yield CommandSpec(name="widget", parent="data", target="plugin_examples:hello",
                          help="Pull widgets.")

    @hookimpl
    def kepler_config_sections(self):
        yield ConfigSectionSpec(name="widget", model="plugin_examples:WidgetSettings")

    @hookimpl
    def kepler_sdk_functions(self):
        yield SdkFunctionSpec(namespace="data", name="double", target="plugin_examples:double")

    @hookimpl
    def kepler_validate(self, config):
        settings = config.section("widget")
        yield CheckResult(check="widget reachable",
                          status="pass" if settings.host != "unreachable" else "fail",
                          detail=settings.host, hint="Set widget.host to a reachable host.")


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
