"""Rolling update, canary through weighted forwarding on the deployment's listener, promote and
rollback, through core's generic commands (no special case for aws in core)."""

from __future__ import annotations

import json

import pytest
from aws_helpers import push_image
from kepler.api import DeploymentError, namespace

BLUE, GREEN = "pump-failure-dev-blue", "pump-failure-dev-green"


def state(moto):
    """{service: (task definition revision, model version, role)} of the active services, and
    the listener's weights by service."""
    ecs, elbv2 = moto.client("ecs"), moto.client("elbv2")
    services = ecs.describe_services(cluster="kepler", services=[BLUE, GREEN],
                                     include=["TAGS"])["services"]
    active = {s["serviceName"]: s for s in services if s["status"] == "ACTIVE"}
    out = {}
    for name, service in active.items():
        tags = {t["key"]: t["value"] for t in service["tags"]}
        out[name] = (service["taskDefinition"].rsplit(":", 1)[-1], tags["kepler-version"],
                     tags["kepler-role"])
    [lb] = elbv2.describe_load_balancers(Names=["kepler-dev"])["LoadBalancers"]
    [listener] = elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
    groups = listener["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]
    by_group = {s["loadBalancers"][0]["targetGroupArn"]: n for n, s in active.items()}
    weights = {by_group.get(g["TargetGroupArn"], "?"): g["Weight"] for g in groups}
    return out, weights


@pytest.fixture
def deployed(moto, provisioned, model, kepler_cli):
    image = push_image(moto, "pump-failure-v3")
    push_image(moto, "pump-failure-v4")
    result = kepler_cli("deploy", str(model), "--target", "aws", "-o", f"image={image}")
    assert result.code == 0, result.err
    return image.replace("-v3", "-v4")


def test_update_then_rollback_to_the_previous_task_definition(moto, deployed, model_v4,
                                                              kepler_cli):
    updated = kepler_cli("deploy", "update", "pump-failure", str(model_v4), "-o",
                         f"image={deployed}", "--json")
    assert updated.code == 0, updated.err
    assert json.loads(updated.out)["version"] == "4"
    assert state(moto) == ({BLUE: ("2", "4", "stable")}, {BLUE: 100})
    revisions = json.loads(kepler_cli("aws", "revisions", "pump-failure", "--json").out)
    assert [(r["name"], r["version"], r["traffic"]) for r in revisions] == [
        ("pump-failure-dev:2", "4", 100), ("pump-failure-dev:1", "3", 0)]
    rolled = kepler_cli("deploy", "rollback", "pump-failure", "--json")
    assert rolled.code == 0, rolled.err
    answer = json.loads(rolled.out)
    assert answer["version"] == "3"
    assert answer["details"]["rolled_back_from"] == "pump-failure-dev:2"
    assert state(moto) == ({BLUE: ("1", "3", "stable")}, {BLUE: 100})
    # and forward again to a named revision
    again = namespace("deploy").rollback("pump-failure", "2", target="aws")
    assert again.version == "4" and state(moto)[0] == {BLUE: ("2", "4", "stable")}
    with pytest.raises(DeploymentError, match="no task definition pump-failure-dev:9"):
        namespace("deploy").rollback("pump-failure", "9", target="aws")


def test_canary_then_promote(moto, deployed, model_v4, kepler_cli):
    canary = kepler_cli("deploy", "update", "pump-failure", str(model_v4), "--canary", "10",
                        "-o", f"image={deployed}", "--json")
    assert canary.code == 0, canary.err
    assert state(moto) == ({BLUE: ("1", "3", "stable"), GREEN: ("2", "4", "canary")},
                           {BLUE: 90, GREEN: 10})
    details = json.loads(canary.out)["details"]
    assert details["canary"] == "pump-failure-dev:2" and "(canary)" in details["traffic"]
    busy = kepler_cli("deploy", "update", "pump-failure", str(model_v4), "-o",
                      f"image={deployed}")
    assert busy.code != 0 and "canary of 'pump-failure' is running" in busy.err
    promoted = kepler_cli("deploy", "promote", "pump-failure", "--json")
    assert promoted.code == 0, promoted.err
    assert json.loads(promoted.out)["version"] == "4"
    assert state(moto) == ({GREEN: ("2", "4", "stable")}, {GREEN: 100})
    # the next canary goes to the blue slot again
    namespace("deploy").to_aws(model_v4, canary=25, image=deployed)
    assert state(moto)[1] == {GREEN: 75, BLUE: 25}
    none = kepler_cli("deploy", "promote", "pump-failure", "--revision", "pump-failure-dev:1")
    assert none.code != 0 and "is not the canary" in none.err


def test_canary_then_rollback_retires_it(moto, deployed, model_v4, kepler_cli):
    assert namespace("deploy").to_aws(model_v4, canary=30, image=deployed).status == "running"
    scaling = moto.client("application-autoscaling")
    assert len(scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]) == 2
    rolled = kepler_cli("deploy", "rollback", "pump-failure", "--json")
    assert rolled.code == 0, rolled.err
    assert json.loads(rolled.out)["details"]["rolled_back_from"] == "pump-failure-dev:2"
    assert state(moto) == ({BLUE: ("1", "3", "stable")}, {BLUE: 100})
    [target] = scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
    assert target["ResourceId"] == f"service/kepler/{BLUE}"
    nothing = kepler_cli("deploy", "promote", "pump-failure")
    assert nothing.code != 0 and "no canary to promote" in nothing.err
    first = kepler_cli("deploy", "rollback", "pump-failure")
    assert first.code != 0 and "no task definition before pump-failure-dev:1" in first.err


def test_a_canary_needs_a_deployment(moto, model, kepler_cli):
    result = kepler_cli("deploy", "update", "pump-failure", str(model), "--canary", "10",
                        "--target", "aws", "-o", "image=python:3.11")
    assert result.code != 0 and "No AWS deployment named 'pump-failure'" in result.err
