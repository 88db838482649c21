"""Canary, promote and rollback move traffic weights between revisions (multiple-revision
mode), through core's generic commands; a revision that fails or never provisions is reported
with its reason, and traffic stays where it was."""

from __future__ import annotations

import json

import pytest
from azure_helpers import APP, IMAGE
from kepler.api import DeploymentError, namespace
from kepler_azure.errors import RevisionNotReadyError

V4 = "plantacr.azurecr.io/pump-failure:v4"


def deploy_two(kepler_cli, model, model_v4, canary="10"):
    created = kepler_cli("deploy", str(model), "--target", "azure", "-o", f"image={IMAGE}",
                         "--json")
    assert created.code == 0, created.err
    first = json.loads(created.out)["details"]["revision"]
    result = kepler_cli("deploy", "update", "pump-failure", str(model_v4), "--target", "azure",
                        "-o", f"image={V4}", "--canary", canary, "--json")
    assert result.code == 0, result.err
    return first, json.loads(result.out)


def test_canary_promote_rollback(fake, model, model_v4, kepler_cli):
    first, canary = deploy_two(kepler_cli, model, model_v4)
    new = fake.apps[APP]["properties"]["latestRevisionName"]
    assert fake.traffic(APP) == [(new, 10, "canary"), (first, 90, "")]
    assert f"{new} 10% (canary)" in canary["details"]["traffic"]
    assert fake.apps[APP]["tags"]["kepler-version"] == "4"

    revisions = json.loads(kepler_cli("azure", "revisions", "pump-failure", "--json").out)
    assert [(r["name"], r["traffic"], r["version"]) for r in revisions] == \
        [(new, 10, "4"), (first, 90, "3")]

    promoted = kepler_cli("deploy", "promote", "pump-failure", "--target", "azure", "--json")
    assert promoted.code == 0, promoted.err
    assert fake.apps[APP]["properties"]["configuration"]["ingress"]["traffic"] == \
        [{"latestRevision": True, "weight": 100}]
    patch = fake.calls("PATCH")[-1]
    assert set(patch.body) == {"tags", "properties"}

    rolled = kepler_cli("deploy", "rollback", "pump-failure", "--target", "azure", "--json")
    assert rolled.code == 0, rolled.err
    answer = json.loads(rolled.out)
    assert fake.traffic(APP) == [(first, 100, "")]
    assert answer["version"] == "3" and answer["details"]["rolled_back_from"] == new
    assert fake.apps[APP]["tags"]["kepler-version"] == "3"
    # promote a named revision again
    back = namespace("deploy").promote("pump-failure", new, target="azure")
    assert back.version == "4" and fake.traffic(APP) == [(new, 100, "")]


def test_rollback_during_a_canary_drops_it(fake, model, model_v4, kepler_cli):
    first, _ = deploy_two(kepler_cli, model, model_v4, canary="25")
    rolled = namespace("deploy").rollback("pump-failure", target="azure")
    assert fake.traffic(APP) == [(first, 100, "")]
    assert rolled.details["rolled_back_from"].startswith(APP + "--v4")


def test_rollback_without_an_earlier_revision_says_so(fake, model):
    namespace("deploy").to_azure(model, image=IMAGE)
    with pytest.raises(DeploymentError, match="no provisioned revision before"):
        namespace("deploy").rollback("pump-failure", target="azure")
    with pytest.raises(DeploymentError, match="has no revision 'nope'"):
        namespace("deploy").promote("pump-failure", "nope", target="azure")


def test_a_canary_needs_an_existing_app_and_a_valid_percentage(fake, model, kepler_cli):
    from kepler.api import deployer

    with pytest.raises(DeploymentError, match="needs a deployment to share"):
        deployer("azure").create("pump-failure", str(model), {"image": IMAGE, "canary": 10})
    namespace("deploy").to_azure(model, image=IMAGE)
    with pytest.raises(DeploymentError, match="not a percentage"):
        deployer("azure").update("pump-failure", str(model), {"image": IMAGE, "canary": 100})


def test_a_failing_revision_is_reported_and_traffic_stays(fake, model, model_v4, kepler_cli):
    namespace("deploy").to_azure(model, image=IMAGE)
    first = fake.apps[APP]["properties"]["latestReadyRevisionName"]
    fake.fail_next_revision()
    result = kepler_cli("deploy", "update", "pump-failure", str(model_v4), "--target", "azure",
                        "-o", f"image={V4}")
    assert result.code == 7
    assert "failed to provision" in result.err and "startup probe" in result.err
    assert "traffic stays on the revision that served before" in result.err
    assert fake.traffic(APP) == [(first, 100, "")]
    status = namespace("deploy").status("pump-failure", target="azure")
    assert status.status == "failed" and "startup probe" in status.details["reason"]


def test_a_revision_that_never_provisions_times_out(fake, model, model_v4, monkeypatch,
                                                    caplog):
    import logging

    from kepler.api import deployer

    namespace("deploy").to_azure(model, image=IMAGE)
    monkeypatch.setenv("KEPLER_AZURE__READY_TIMEOUT", "0.3")
    fake.hang_next_revision()
    with caplog.at_level(logging.INFO, logger="kepler_azure.clients"), \
            pytest.raises(RevisionNotReadyError, match="did not provision within") as caught:
        deployer("azure").update("pump-failure", str(model_v4), {"image": V4})
    assert caught.value.revision.startswith(APP + "--v4")
    assert "deploying container app pump-failure-dev: InProgress" in caplog.text  # progress
    assert fake.traffic(APP)[0][1] == 100
