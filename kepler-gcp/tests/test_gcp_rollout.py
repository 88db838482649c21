"""Revisions and traffic: canary, promote, rollback (SDK and ``kepler gcp`` commands)."""

from __future__ import annotations

import json

import pytest
from kepler.errors import DeploymentError

SERVICE = "projects/plant-dev/locations/europe-west1/services/pump-failure-dev"
LATEST = "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST"
REVISION = "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION"


@pytest.fixture
def deployed(fake, model, model_v4, tiny_context):
    import kepler as kp

    first = kp.deploy.to_cloud_run(model)
    return first.details["revision"]


def test_canary_then_promote(fake, deployed, model_v4, kepler_cli):
    result = kepler_cli("gcp", "deploy", str(model_v4), "--canary", "10", "--json")
    assert result.code == 0, result.err
    canary = json.loads(result.out)
    traffic = fake.services[SERVICE]["traffic"]
    new = traffic[0]["revision"]
    assert traffic == [{"type": REVISION, "revision": new, "percent": 10, "tag": "canary"},
                       {"type": REVISION, "revision": deployed, "percent": 90}]
    assert "(canary)" in canary["details"]["traffic"]

    promoted = kepler_cli("gcp", "promote", "pump-failure", "--json")
    assert promoted.code == 0, promoted.err
    assert fake.services[SERVICE]["traffic"] == [{"type": LATEST, "percent": 100}]
    assert json.loads(promoted.out)["details"]["traffic"] == f"{new} 100%"


def test_rollback_returns_traffic_to_the_previous_revision(fake, deployed, model_v4,
                                                          kepler_cli):
    import kepler as kp

    second = kp.deploy.to_cloud_run(model_v4)
    assert second.details["revision"] != deployed
    result = kepler_cli("gcp", "rollback", "pump-failure", "--json")
    assert result.code == 0, result.err
    answer = json.loads(result.out)
    assert fake.services[SERVICE]["traffic"] == [
        {"type": REVISION, "revision": deployed, "percent": 100}]
    assert answer["details"]["rolled_back_from"] == second.details["revision"]
    assert answer["details"]["traffic"] == f"{deployed} 100%"
    table = kepler_cli("gcp", "revisions", "pump-failure")
    assert table.code == 0 and deployed in table.out and "100%" in table.out
    # promote goes forward again
    kepler_cli("gcp", "promote", "pump-failure", "--revision", second.details["revision"])
    assert fake.services[SERVICE]["traffic"] == [{"type": LATEST, "percent": 100}]


def test_rollback_during_a_canary_drops_the_canary(fake, deployed, model_v4):
    from kepler_gcp import sdk

    events = []
    from kepler.hookspecs import hookimpl
    from kepler.plugins import get_host

    class Listener:
        @hookimpl
        def kepler_after_deploy(self, event):
            events.append(event.action)

    get_host().pm.register(Listener(), name="listener")
    try:
        sdk.to_cloud_run(model_v4, canary=25)
        dep = sdk.rollback("pump-failure")
    finally:
        get_host().pm.unregister(name="listener")
    assert fake.services[SERVICE]["traffic"] == [
        {"type": REVISION, "revision": deployed, "percent": 100}]
    assert dep.details["rolled_back_from"].startswith("pump-failure-dev-v4-")
    assert events == ["update", "rollback"]


def test_rollback_needs_a_previous_revision(fake, deployed):
    from kepler_gcp import sdk

    with pytest.raises(DeploymentError, match="no ready revision before"):
        sdk.rollback("pump-failure")
    with pytest.raises(DeploymentError, match="has no revision 'nope'"):
        sdk.rollback("pump-failure", "nope")


def test_canary_needs_an_existing_deployment_and_a_percentage(fake, model, model_v4,
                                                              tiny_context):
    from kepler.deployments import deployer

    target = deployer("cloud-run")
    with pytest.raises(DeploymentError, match="A canary needs a deployment"):
        target.create("pump-failure", str(model), {"canary": 10})
    with pytest.raises(DeploymentError, match="not a percentage"):
        target.update("pump-failure", str(model_v4), {"canary": 100})


def test_canary_through_the_generic_update_command(fake, deployed, model_v4, kepler_cli):
    result = kepler_cli("deploy", "update", "pump-failure", str(model_v4), "-o", "canary=20")
    assert result.code == 0, result.err
    assert [t["percent"] for t in fake.services[SERVICE]["traffic"]] == [20, 80]
