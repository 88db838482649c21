"""``kepler deploy`` and ``kp.deploy.*`` are generic over DeployerSpec records: a plugin that
adds a target gets every command through ``--target`` (the Deployer protocol, plugin API 1.2)."""

from __future__ import annotations

import json
from typing import ClassVar

import kepler as kp
import pytest
from kepler.errors import DeploymentError, DeploymentNotFoundError, ServiceError
from kepler.hookspecs import hookimpl
from kepler.protocols import Deployer
from kepler.records import DeployerSpec, Deployment
from plugin_examples import MemoryDeployer, Subscriber, WidgetPlugin


class ShelfDeployer:
    """A target keeping its deployments on a class-level shelf (so each factory call sees
    them), recording every call."""

    shelf: ClassVar[dict[str, Deployment]] = {}
    calls: ClassVar[list[tuple]] = []

    def __init__(self, config):
        self.config = config

    def create(self, name, model, config):
        self.calls.append(("create", name, model, dict(config)))
        self.shelf[name] = Deployment(name=name, target="shelf", model=model, version="1",
                                      url=f"shelf://{name}", status="running")
        return self.shelf[name]

    def update(self, name, model, config):
        self.calls.append(("update", name, model, dict(config)))
        return self.create(name, model, config)

    def delete(self, name):
        self.calls.append(("delete", name))
        self.shelf.pop(name)

    def list(self):
        return list(self.shelf.values())

    def _known(self, name):
        if name not in self.shelf:
            raise DeploymentNotFoundError(f"no {name} on the shelf")
        return self.shelf[name]

    def get(self, name):
        return self._known(name)

    def status(self, name):
        return self._known(name)

    def predict(self, name, data):
        self._known(name)
        return {"predictions": [len(row) for row in data], "model": name, "version": 1}

    def logs(self, name, lines=100):
        return [f"line {i}" for i in range(5)][-lines:]

    def build(self, model, out, config):
        self.calls.append(("build", model, str(out), dict(config)))
        out.mkdir(parents=True)
        (out / "Dockerfile").write_text("FROM scratch\n")
        return out


class RevisionsDeployer(ShelfDeployer):
    """A target with revisions: the optional rollback / promote / plan methods."""

    def create(self, name, model, config):
        from dataclasses import replace

        created = super().create(name, model, config)
        self.shelf[name] = replace(created, target="revisions")
        return self.shelf[name]

    def rollback(self, name, revision=None):
        self.calls.append(("rollback", name, revision))
        return self._known(name)

    def promote(self, name, revision=None):
        self.calls.append(("promote", name, revision))
        return self._known(name)

    def plan(self, name, model, config, *, action="create"):
        return [PlannedCall(action, name, dict(config))]


class PlannedCall:
    def __init__(self, action, name, config):
        self.action, self.name, self.config = action, name, config

    def render(self):
        return f"{self.action.upper()} /{self.name} {self.config}"

    def as_dict(self):
        return {"action": self.action, "name": self.name, "config": self.config}


class BrokenDeployer(ShelfDeployer):
    def list(self):
        raise ServiceError("the cloud is down")


class ShelfPlugin:
    @hookimpl
    def kepler_deployers(self):
        yield DeployerSpec(name="shelf", target="test_serve_deployers:ShelfDeployer",
                           description="On a shelf.")
        yield DeployerSpec(name="broken", target="test_serve_deployers:BrokenDeployer")
        yield DeployerSpec(name="revisions",
                           target="test_serve_deployers:RevisionsDeployer")


@pytest.fixture
def shelf(kepler_plugin, kepler_cli):
    ShelfDeployer.shelf.clear()
    ShelfDeployer.calls.clear()
    kepler_plugin(WidgetPlugin(), name="widget")
    kepler_plugin(ShelfPlugin(), name="shelf")
    subscriber = kepler_plugin(Subscriber(), name="subscriber")
    model = kp.train.mean([{"y": 1.0}, {"y": 3.0}], target="y", name="temps-mean", save=True)
    return model, subscriber


def test_every_deployer_fits_the_protocol(kepler_home):
    assert isinstance(ShelfDeployer(None), Deployer)
    assert isinstance(MemoryDeployer(None), Deployer)
    for method in ("create", "update", "delete", "list", "get", "status", "predict", "logs",
                   "build"):
        assert callable(getattr(Deployer, method))


def test_cli_drives_any_target(shelf, kepler_cli, tmp_path):
    model, subscriber = shelf
    targets = kepler_cli("deploy", "targets")
    assert targets.code == 0 and "shelf" in targets.out and "On a shelf." in targets.out

    created = kepler_cli("deploy", "temps-mean", "--target", "shelf", "--name", "temps",
                         "-o", "zone=eu", "--port", "9000", "--json")
    assert created.code == 0, created.err
    assert json.loads(created.out)["url"] == "shelf://temps"
    [call] = ShelfDeployer.calls
    assert call[:2] == ("create", "temps") and call[2] == str(model.path)  # a folder, resolved
    assert call[3] == {"zone": "eu", "port": 9000}
    [(_, event)] = [e for e in subscriber.events if e[0] == "deploy"]
    assert (event.target, event.name, event.action) == ("shelf", "temps", "create")

    listed = json.loads(kepler_cli("deploy", "list", "--target", "shelf", "--json").out)
    assert [d["name"] for d in listed["deployments"]] == ["temps"]
    everything = kepler_cli("deploy", "list")  # the broken target warns, the rest is listed
    assert everything.code == 0 and "temps" in everything.out
    assert "target 'broken' did not answer: the cloud is down" in everything.err

    status = kepler_cli("deploy", "status", "temps")  # the index knows its target
    assert status.code == 0 and "running at shelf://temps" in status.out
    assert kepler_cli("deploy", "logs", "temps", "-n", "2").out.split() == [
        "line", "3", "line", "4"]
    (tmp_path / "rows.json").write_text(json.dumps({"instances": [{"a": 1, "b": 2}, {"a": 1}]}))
    answer = kepler_cli("deploy", "predict", "temps", "--data", str(tmp_path / "rows.json"))
    assert json.loads(answer.out)["predictions"] == [2, 1]

    again = kepler_cli("deploy", "temps-mean", "--target", "shelf", "--name", "temps")
    assert again.code == 1 and "exists already" in again.err
    replaced = kepler_cli("deploy", "temps-mean", "--target", "shelf", "--name", "temps",
                          "--replace")
    assert replaced.code == 0 and ShelfDeployer.calls[-2][0] == "update"

    built = kepler_cli("deploy", "build", "temps-mean:1", "--out", str(tmp_path / "ctx"),
                       "--target", "shelf", "-o", "wheels=all")
    assert built.code == 0, built.err
    assert ShelfDeployer.calls[-1] == ("build", str(model.path), str(tmp_path / "ctx"),
                                       {"wheels": "all"})

    deleted = kepler_cli("deploy", "delete", "temps")
    assert deleted.code == 0 and ShelfDeployer.shelf == {}
    assert subscriber.events[-1][1].action == "delete"
    gone = kepler_cli("deploy", "status", "temps")
    assert gone.code == 1 and "No deployment named 'temps'" in gone.err


def test_errors_name_what_to_install_and_what_exists(shelf, kepler_cli, monkeypatch):
    from kepler import catalogue

    entries = {kind: dict(names) for kind, names in catalogue._catalogue().items()}
    entries["deployers"]["mars"] = "kepler-mars"
    monkeypatch.setattr(catalogue, "_catalogue", lambda: entries)
    cloud = kepler_cli("deploy", "temps-mean", "--target", "mars")
    assert cloud.code == 4
    assert "No installed plugin provides the deployer 'mars'" in cloud.err
    assert "pip install 'kepler-mars'" in cloud.err and "shelf" in cloud.err
    unknown = kepler_cli("deploy", "temps-mean", "--target", "nowhere")
    assert unknown.code == 4 and "pip install" not in unknown.err
    bad_name = kepler_cli("deploy", "temps-mean", "--target", "shelf", "--name", "Bad_Name")
    assert bad_name.code == 1 and "Invalid deployment name" in bad_name.err
    no_model = kepler_cli("deploy", "nothing-here", "--target", "shelf")
    assert no_model.code == 1 and "No model named 'nothing-here'" in no_model.err
    assert "Usage: kepler deploy [OPTIONS] MODEL | COMMAND" in kepler_cli("deploy",
                                                                           "--help").out


def test_sdk_is_the_same_generic_api(shelf):
    model, _ = shelf
    deployment = kp.deploy.create(model, target="shelf")
    assert deployment.name == "temps-mean" and deployment.model == str(model.path)
    assert [d.name for d in kp.deploy.list(target="shelf")] == ["temps-mean"]
    assert kp.deploy.get("temps-mean").url == "shelf://temps-mean"
    assert kp.deploy.predict("temps-mean", [{"a": 1}])["predictions"] == [1]
    assert kp.deploy.logs("temps-mean", lines=1) == ["line 4"]
    kp.deploy.update("temps-mean", "temps-mean:1")
    assert ShelfDeployer.calls[-2][0] == "update"
    assert (kp.deploy.build("temps-mean", "ctx", target="shelf") / "Dockerfile").is_file()
    kp.deploy.delete("temps-mean")
    with pytest.raises(DeploymentNotFoundError):
        kp.deploy.status("temps-mean")
    with pytest.raises(DeploymentError, match="Invalid deployment name"):
        kp.deploy.create(model, target="shelf", name="-x")


def test_deployment_names_are_dns_safe():
    from kepler.deployments import check_name, default_name

    assert default_name("Pump_Failure.v2") == "pump-failure-v2"
    assert default_name("42-pumps") == "pumps"
    assert len(default_name("x" * 80)) == 49
    assert check_name("pump-failure") == "pump-failure"
    for bad in ("", "Pump", "-pump", "pump-", "p" * 50, "pump_failure"):
        with pytest.raises(DeploymentError):
            check_name(bad)


def test_rollback_promote_canary_and_dry_run_are_generic(shelf, kepler_cli):
    _, subscriber = shelf
    planned = kepler_cli("deploy", "temps-mean", "--target", "revisions", "--dry-run",
                         "--canary", "10")
    assert planned.code == 0, planned.err
    assert "dry run: not sent" in planned.out and "CREATE /temps-mean" in planned.out
    assert "'canary': 10" in planned.out and ShelfDeployer.calls == []
    assert kepler_cli("deploy", "temps-mean", "--target", "revisions").code == 0
    assert kepler_cli("deploy", "update", "temps-mean", "temps-mean", "--canary", "25",
                      "--dry-run").out.startswith("# request 1 of 1")
    assert kepler_cli("deploy", "update", "temps-mean", "temps-mean", "--canary", "25").code == 0
    assert ShelfDeployer.calls[-2][3] == {"canary": 25}
    assert kepler_cli("deploy", "promote", "temps-mean").code == 0
    assert kepler_cli("deploy", "rollback", "temps-mean", "--to", "rev-1").code == 0
    assert ShelfDeployer.calls[-2:] == [("promote", "temps-mean", None),
                                        ("rollback", "temps-mean", "rev-1")]
    actions = [event.action for kind, event in subscriber.events if kind == "deploy"]
    assert actions[-2:] == ["promote", "rollback"]
    assert kepler_cli("deploy", "temps-mean", "--target", "shelf", "--name", "plain").code == 0
    refused = kepler_cli("deploy", "rollback", "plain")
    assert refused.code == 1 and "Target 'shelf' does not support rollback" in refused.err
    assert "does not support plan" in kepler_cli(
        "deploy", "temps-mean", "--target", "shelf", "--dry-run").err


def test_the_default_target_comes_from_config_or_is_the_only_one(shelf, kepler_cli,
                                                                  monkeypatch):
    """No target is core's favourite: deploy.target chooses; several and none chosen is an
    error that lists them."""
    several = kepler_cli("deploy", "temps-mean")
    assert several.code == 4
    assert "Several deployers are installed" in several.err and "shelf" in several.err
    assert "deploy.target" in several.err
    monkeypatch.setenv("KEPLER_DEPLOY__TARGET", "shelf")
    chosen = kepler_cli("deploy", "temps-mean", "--json")
    assert chosen.code == 0, chosen.err
    assert json.loads(chosen.out)["target"] == "shelf"


def test_a_model_name_finds_the_deployment_made_from_it(shelf, kepler_cli):
    """Deployments are named from models with '_' turned into '-': typing the model's spelling
    finds the deployment instead of failing on the name."""
    model, _ = shelf
    kp.deploy.create(model, target="shelf", name="temps-mean-v1")
    assert kp.deploy.get("temps_mean_v1").name == "temps-mean-v1"
    status = kepler_cli("deploy", "status", "temps_mean_v1")
    assert status.code == 0 and "temps-mean-v1" in status.out
    nowhere = kepler_cli("deploy", "status", "other_model")
    assert nowhere.code == 1 and "named like 'other-model'" in nowhere.err


def test_deploy_help_shows_the_options_of_deploying_a_model(kepler_home, kepler_cli):
    shown = kepler_cli("deploy", "--help").out
    assert "Options of 'kepler deploy MODEL'" in shown
    for option in ("--target", "--port", "--name", "--canary", "--dry-run"):
        assert option in shown


def test_an_existing_name_says_how_to_replace_it_in_cli_words(shelf, kepler_cli):
    assert kepler_cli("deploy", "temps-mean", "--target", "shelf").code == 0
    again = kepler_cli("deploy", "temps-mean", "--target", "shelf")
    assert again.code == 1 and "--replace" in again.err


class CloudRecordDeployer(RevisionsDeployer):
    """A target that is its own record: a name deployed from elsewhere exists there already."""

    elsewhere: ClassVar[set[str]] = set()

    def create(self, name, model, config):
        from dataclasses import replace

        from kepler.errors import DeploymentExistsError

        if name in self.elsewhere:
            raise DeploymentExistsError(f"{name} runs on the cloud already")
        self.shelf[name] = replace(super().create(name, model, config), target="cloud")
        return self.shelf[name]

    def update(self, name, model, config):
        self.elsewhere.discard(name)
        return super().update(name, model, config)


def test_deploy_to_creates_updates_canaries_and_plans_for_any_target(shelf, kepler_plugin):
    """``kepler.api.deploy_to`` is the one ``kp.deploy.to_<target>`` every cloud plugin wraps:
    create, update when it exists (in the index or only on the target), canary, dry run."""
    from kepler.api import DeployDryRun, DeploymentExistsError, deploy_to

    class CloudPlugin:
        @hookimpl
        def kepler_deployers(self):
            yield DeployerSpec(name="cloud", target="test_serve_deployers:CloudRecordDeployer")

    kepler_plugin(CloudPlugin(), name="cloud")
    planned = deploy_to("cloud", "temps-mean", dry_run=True, canary=5, image="reg/img:1")
    assert isinstance(planned, DeployDryRun) and ShelfDeployer.calls == []
    assert planned.as_dicts()[0]["action"] == "update"
    assert "'canary': 5" in str(planned) and "'image': 'reg/img:1'" in str(planned)

    first = deploy_to("cloud", "temps-mean", region="north")
    assert first.name == "temps-mean" and ShelfDeployer.calls[-1][0] == "create"
    deploy_to("cloud", "temps-mean")  # in the index: updated, not refused
    assert [c[0] for c in ShelfDeployer.calls[-2:]] == ["update", "create"]
    deploy_to("cloud", "temps-mean", canary=10)
    assert ShelfDeployer.calls[-2][0] == "update" and ShelfDeployer.calls[-2][3] == {
        "canary": 10}

    CloudRecordDeployer.elsewhere.add("from-ci")  # on the cloud, not in this machine's index
    with pytest.raises(DeploymentExistsError):
        deploy_to("cloud", "temps-mean", name="from-ci", replace=False)
    updated = deploy_to("cloud", "temps-mean", name="from-ci")
    assert updated.name == "from-ci" and "from-ci" not in CloudRecordDeployer.elsewhere
