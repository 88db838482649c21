"""Dry runs print every request with its parameters and send none (moto sees nothing), and the
per-environment settings shape them."""

from __future__ import annotations

import json

from aws_helpers import DEV_IMAGE
from kepler.api import namespace


def ops(requests):
    return [(r["service"], r["operation"]) for r in requests]


def test_dry_run_create_prints_build_and_stack_and_sends_nothing(moto, model, kepler_cli):
    result = kepler_cli("deploy", str(model), "--target", "aws", "--dry-run", "--json")
    assert result.code == 0, result.err
    requests = json.loads(result.out)
    assert ops(requests) == [
        ("ecs", "DescribeServices"), ("s3", "PutObject"), ("codebuild", "StartBuild"),
        ("ec2", "DescribeVpcs"), ("ec2", "DescribeSubnets"), ("ec2", "DescribeSecurityGroups"),
        ("elbv2", "DescribeLoadBalancers"), ("ecs", "RegisterTaskDefinition"),
        ("elbv2", "DescribeListeners"), ("elbv2", "CreateTargetGroup"),
        ("elbv2", "CreateListener"), ("ecs", "CreateService"),
        ("application-autoscaling", "RegisterScalableTarget"),
        ("application-autoscaling", "PutScalingPolicy"),
        ("application-autoscaling", "PutScalingPolicy"), ("ecs", "DescribeServices")]
    build = requests[2]["params"]
    assert build["environmentVariablesOverride"][0]["value"] == \
        "<account>.dkr.ecr.eu-west-1.amazonaws.com/kepler:pump-failure-v3"
    td = requests[7]["params"]
    assert td["family"] == "pump-failure-dev" and td["memory"] == "512"
    assert requests[10]["params"]["Port"] == 8000
    service = requests[11]["params"]
    assert service["serviceName"] == "pump-failure-dev-blue" and service["desiredCount"] == 1
    assert requests[12]["params"]["MaxCapacity"] == 3
    # nothing reached moto
    assert moto.client("ecs").list_clusters()["clusterArns"] == []
    assert moto.client("ecs").list_task_definitions()["taskDefinitionArns"] == []
    text = kepler_cli("deploy", str(model), "--target", "aws", "--dry-run")
    assert "(dry run: not sent)" in text.out and "ecs CreateService" in text.out
    assert json.loads(kepler_cli("deploy", "list", "--json").out)["deployments"] == []


def test_dry_run_canary_in_prod_plans_the_weights_and_the_secret(moto, model, kepler_cli):
    result = kepler_cli("--env", "prod", "deploy", str(model), "--target", "aws", "--dry-run",
                        "--canary", "10", "-o", f"image={DEV_IMAGE}", "--json")
    assert result.code == 0, result.err
    requests = json.loads(result.out)
    assert ("ecr", "DescribeImages") in ops(requests)
    td = next(r["params"] for r in requests if r["operation"] == "RegisterTaskDefinition")
    [container] = td["containerDefinitions"]
    assert container["secrets"] == [{"name": "KEPLER_SPLUNK__HEC_TOKEN", "valueFrom":
                                     "arn:aws:secretsmanager:us-east-1:<account>:secret:"
                                     "kepler-hec-token-<suffix>"}]
    assert all(e["name"] != "KEPLER_SPLUNK__HEC_TOKEN" for e in container["environment"])
    assert container["logConfiguration"]["options"]["awslogs-region"] == "us-east-1"
    service = next(r["params"] for r in requests if r["operation"] == "CreateService")
    assert service["serviceName"] == "pump-failure-prod-green" and service["cluster"] == \
        "kepler-prod" and service["desiredCount"] == 2
    attach, weights = [r["params"] for r in requests if r["operation"] == "ModifyListener"]
    assert [[g["Weight"] for g in step["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]]
            for step in (attach, weights)] == [[100, 0], [90, 10]]
    # attached at weight 0 before ECS creates the service behind it
    order = [r["operation"] for r in requests]
    assert order.index("ModifyListener") < order.index("CreateService")
    assert moto.client("ecs", "us-east-1").list_clusters()["clusterArns"] == []


def test_sdk_dry_run_per_environment_and_overrides(moto, model, monkeypatch):
    plan = namespace("deploy").to_aws(model, dry_run=True, image="python:3.11", env="staging",
                                      memory=4096)
    scaling = next(r for r in plan if r.operation == "RegisterScalableTarget")
    assert scaling.params["MaxCapacity"] == 5
    policy = next(r for r in plan if r.operation == "PutScalingPolicy")
    assert policy.params["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 250.0
    td = next(r for r in plan if r.operation == "RegisterTaskDefinition")
    assert (td.params["memory"], td.params["cpu"]) == ("4096", "1024")
    assert "pump-failure-staging" in str(plan)
    monkeypatch.setenv("KEPLER_AWS__MAX_TASKS", "7")
    again = namespace("deploy").plan(model, target="aws", image="python:3.11")
    assert next(r for r in again if r.operation == "RegisterScalableTarget").params[
        "MaxCapacity"] == 7
    assert moto.client("ecs").list_clusters()["clusterArns"] == []


def test_a_dry_run_option_is_refused_with_the_way(moto, model, kepler_cli):
    result = kepler_cli("deploy", str(model), "--target", "aws", "-o", "dry_run=true")
    assert result.code == 1
    assert "kepler deploy MODEL --target aws --dry-run" in result.err
    bad = kepler_cli("deploy", str(model), "--target", "aws", "-o", "cpu=300", "--dry-run")
    assert bad.code != 0 and "aws.cpu" not in bad.out and "cpu=300" in bad.err
