"""kepler aws provision against moto: everything made once, nothing the second time, least
privilege, and --dry-run sends nothing."""

from __future__ import annotations

import json

from aws_helpers import REGION


def test_provision_makes_everything_once(moto, kepler_cli):
    first = kepler_cli("aws", "provision", "--json")
    assert first.code == 0, first.err
    steps = {s["resource"] + " " + s["name"]: s["action"] for s in json.loads(first.out)["steps"]}
    assert set(steps.values()) == {"created"}
    assert "ECR repository kepler" in steps and "ECS cluster kepler" in steps
    assert "Application Load Balancer kepler-dev" in steps
    assert "IAM role kepler-ecs-execution" in steps and "CodeBuild project kepler-image-build" \
        in steps
    again = kepler_cli("aws", "provision")
    assert again.code == 0, again.err
    assert "ECS cluster: kepler (exists)" in again.out and "(created)" not in again.out
    [lb] = moto.client("elbv2").describe_load_balancers(Names=["kepler-dev"])["LoadBalancers"]
    assert lb["Scheme"] == "internet-facing"
    assert len(moto.client("elbv2").describe_load_balancers()["LoadBalancers"]) == 1
    assert moto.client("ecs").describe_clusters(clusters=["kepler"])["clusters"][0]["status"] \
        == "ACTIVE"


def test_prod_provision_is_internal_with_the_hec_secret_readable_by_tasks_only(moto,
                                                                              kepler_cli):
    from kepler.api import secret_store

    secret_store().set("kepler-hec-token", "hec-123")
    result = kepler_cli("aws", "provision", "--env", "prod")
    assert result.code == 0, result.err
    assert "Secrets Manager secret: kepler-hec-token (created) - value from Kepler's secret " \
        "store" in result.out
    elbv2, iam = moto.client("elbv2", "us-east-1"), moto.client("iam", "us-east-1")
    [lb] = elbv2.describe_load_balancers(Names=["kepler-prod"])["LoadBalancers"]
    assert lb["Scheme"] == "internal"
    sm = moto.client("secretsmanager", "us-east-1")
    arn = sm.describe_secret(SecretId="kepler-hec-token")["ARN"]
    assert sm.get_secret_value(SecretId=arn)["SecretString"] == "hec-123"
    document = iam.get_role_policy(RoleName="kepler-ecs-execution",
                                   PolicyName="kepler")["PolicyDocument"]
    by_action = {tuple(s["Action"]): s["Resource"] for s in document["Statement"]}
    assert by_action[("secretsmanager:GetSecretValue",)] == [arn]
    assert by_action[("logs:CreateLogStream", "logs:PutLogEvents")] == [
        "arn:aws:logs:us-east-1:123456789012:log-group:/kepler/models:*"]
    # the task role has no permissions at all
    assert iam.list_role_policies(RoleName="kepler-ecs-task")["PolicyNames"] == []
    assert moto.client("ecs", "us-east-1").describe_clusters(
        clusters=["kepler-prod"])["clusters"][0]["clusterName"] == "kepler-prod"


def test_provision_dry_run_sends_nothing(moto, kepler_cli):
    result = kepler_cli("aws", "provision", "--dry-run", "--json")
    assert result.code == 0, result.err
    answer = json.loads(result.out)
    operations = [(r["service"], r["operation"]) for r in answer["requests"]]
    assert ("ecr", "CreateRepository") in operations and ("ecs", "CreateCluster") in operations
    assert ("elbv2", "CreateLoadBalancer") in operations
    assert {s["action"] for s in answer["steps"]} == {"would create if missing"}
    assert moto.client("ecs", REGION).list_clusters()["clusterArns"] == []
    assert moto.client("ecr", REGION).describe_repositories()["repositories"] == []
    text = kepler_cli("aws", "provision", "--dry-run").out
    assert "Dry run (environment dev)" in text and "ecs CreateCluster" in text
