"""Revisions and traffic: canary, promote, rollback through core's ``kepler deploy`` and
``kp.deploy`` (the only way), which keep the deployment index and fire ``kepler_after_deploy``
once per change; ``kepler gcp revisions`` lists them."""

from __future__ import annotations

import json

import pytest
from kepler.api import DeploymentError, deployer, hookimpl, namespace

SERVICE = "projects/plant-dev/locations/europe-west1/services/pump-failure-dev"
LATEST = "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST"
REVISION = "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION"


@pytest.fixture
def deployed(fake, model, model_v4, tiny_context):
    first = namespace("deploy").to_cloud_run(model)
    return first.details["revision"]


@pytest.fixture
def events(kepler_plugin):
    """The actions of every kepler_after_deploy event fired meanwhile."""
    fired: list[tuple[str, str | None]] = []

    class Listener:
        @hookimpl
        def kepler_after_deploy(self, event):
            fired.append((event.action, event.version))

    kepler_plugin(Listener(), "listener")
    return fired


def listed(kepler_cli):
    """``kepler deploy list --json``: name -> (version, status)."""
    result = kepler_cli("deploy", "list", "--json")
    assert result.code == 0, result.err
    return {d["name"]: (d["version"], d["status"]) for d in json.loads(result.out)["deployments"]}


def index(project):
    return json.loads((project / ".kepler" / "deployments" / "index.json").read_text())


def test_canary_then_promote(fake, project, deployed, model_v4, kepler_cli, events):
    result = kepler_cli("deploy", "update", "pump-failure", str(model_v4), "--canary", "10",
                        "--json")
    assert result.code == 0, result.err
    canary = json.loads(result.out)
    traffic = fake.services[SERVICE]["traffic"]
    new = traffic[0]["revision"]
    assert traffic == [{"type": REVISION, "revision": new, "percent": 10, "tag": "canary"},
                       {"type": REVISION, "revision": deployed, "percent": 90}]
    assert "(canary)" in canary["details"]["traffic"]

    promoted = kepler_cli("deploy", "promote", "pump-failure", "--json")
    assert promoted.code == 0, promoted.err
    assert fake.services[SERVICE]["traffic"] == [{"type": LATEST, "percent": 100}]
    assert json.loads(promoted.out)["details"]["traffic"] == f"{new} 100%"
    assert events == [("update", "4"), ("promote", "4")]
    assert listed(kepler_cli) == {"pump-failure": ("4", "running")}
    assert index(project)["pump-failure"] == {"target": "cloud-run", "model": "pump-failure",
                                              "version": "4"}


def test_canary_of_an_existing_deployment_needs_no_replace(fake, deployed, model_v4,
                                                           kepler_cli):
    """A canary is a new revision of a deployment that exists: --canary implies --replace."""
    result = kepler_cli("deploy", str(model_v4), "--target", "cloud-run", "--canary", "10")
    assert result.code == 0, result.err
    assert [t["percent"] for t in fake.services[SERVICE]["traffic"]] == [10, 90]
    plain = kepler_cli("deploy", str(model_v4), "--target", "cloud-run")
    assert plain.code != 0 and "exists already" in plain.err and "--replace" in plain.err


def test_rollback_returns_traffic_and_the_listed_version(fake, project, deployed, model_v4,
                                                        kepler_cli, events):
    second = namespace("deploy").to_cloud_run(model_v4)
    assert second.details["revision"] != deployed
    assert listed(kepler_cli) == {"pump-failure": ("4", "running")}

    result = kepler_cli("deploy", "rollback", "pump-failure", "--json")
    assert result.code == 0, result.err
    answer = json.loads(result.out)
    assert fake.services[SERVICE]["traffic"] == [
        {"type": REVISION, "revision": deployed, "percent": 100}]
    assert answer["details"]["rolled_back_from"] == second.details["revision"]
    assert answer["details"]["traffic"] == f"{deployed} 100%"
    assert answer["version"] == "3"
    # what kepler deploy list and the index say follows the traffic, without a new revision
    assert listed(kepler_cli) == {"pump-failure": ("3", "running")}
    assert index(project)["pump-failure"]["version"] == "3"
    assert len([r for r in fake.revisions if r.startswith(SERVICE)]) == 2
    table = kepler_cli("gcp", "revisions", "pump-failure")
    assert table.code == 0 and deployed in table.out and "100%" in table.out

    # promote goes forward again
    forward = kepler_cli("deploy", "promote", "pump-failure", "--revision",
                         second.details["revision"])
    assert forward.code == 0, forward.err
    assert fake.services[SERVICE]["traffic"] == [{"type": LATEST, "percent": 100}]
    assert listed(kepler_cli) == {"pump-failure": ("4", "running")}
    assert [action for action, _ in events] == ["update", "rollback", "promote"]


def test_rollback_during_a_canary_drops_the_canary(fake, deployed, model_v4, events):
    deploy = namespace("deploy")
    deploy.to_cloud_run(model_v4, canary=25)
    dep = deploy.rollback("pump-failure", target="cloud-run")
    assert fake.services[SERVICE]["traffic"] == [
        {"type": REVISION, "revision": deployed, "percent": 100}]
    assert dep.details["rolled_back_from"].startswith("pump-failure-dev-v4-")
    assert dep.version == "3"
    assert events == [("update", "4"), ("rollback", "3")]  # once each, from core


def test_rollback_needs_a_previous_revision(fake, deployed, kepler_cli):
    deploy = namespace("deploy")
    with pytest.raises(DeploymentError, match="no ready revision before"):
        deploy.rollback("pump-failure")
    with pytest.raises(DeploymentError, match="has no revision 'nope'"):
        deploy.rollback("pump-failure", "nope")
    result = kepler_cli("deploy", "rollback", "pump-failure", "--to", "nope")
    assert result.code != 0 and "has no revision 'nope'" in result.err


def test_canary_needs_an_existing_deployment_and_a_percentage(fake, model, model_v4,
                                                              tiny_context):
    target = deployer("cloud-run")
    with pytest.raises(DeploymentError, match="A canary needs a deployment"):
        target.create("pump-failure", str(model), {"canary": 10})
    with pytest.raises(DeploymentError, match="not a percentage"):
        target.update("pump-failure", str(model_v4), {"canary": 100})


def test_canary_through_the_generic_update_option(fake, deployed, model_v4, kepler_cli):
    result = kepler_cli("deploy", "update", "pump-failure", str(model_v4), "-o", "canary=20")
    assert result.code == 0, result.err
    assert [t["percent"] for t in fake.services[SERVICE]["traffic"]] == [20, 80]


def test_the_environment_is_chosen_on_the_command_line(fake, model, kepler_cli, monkeypatch):
    import os

    image = "us-central1-docker.pkg.dev/plant-prod/kepler/pump-failure:v3"
    fake.add_image(image)
    monkeypatch.delenv("KEPLER_ENV", raising=False)
    created = kepler_cli("--env", "prod", "deploy", str(model), "--target", "cloud-run",
                         "-o", f"image={image}")
    assert created.code == 0, created.err
    assert "KEPLER_ENV" not in os.environ  # passed down explicitly, never through os.environ
    prod = "projects/plant-prod/locations/us-central1/services/pump-failure-prod"
    assert prod in fake.services
    revisions = kepler_cli("gcp", "revisions", "pump-failure", "--env", "prod", "--json")
    assert revisions.code == 0, revisions.err
    assert [r["version"] for r in json.loads(revisions.out)] == ["3"]
    assert kepler_cli("--env", "prod", "gcp", "revisions", "pump-failure").code == 0
    missing = kepler_cli("gcp", "revisions", "pump-failure")  # dev has none
    assert missing.code != 0 and "No Cloud Run deployment" in missing.err


def test_gcp_lists_only_what_is_google_clouds(kepler_cli):
    result = kepler_cli("gcp", "--help")
    assert result.code == 0, result.err
    section = result.out.split("Commands:", 1)[1]
    commands = [line.split()[0] for line in section.splitlines() if line.startswith("  ")]
    assert commands == ["provision", "revisions"]
    for gone in ("deploy", "promote", "rollback"):
        assert kepler_cli("gcp", gone, "--help").code == 2
