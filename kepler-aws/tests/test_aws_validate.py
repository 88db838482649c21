"""``kepler config validate``: STS caller identity, region, IAM policy simulation.

moto does not implement IAM ``SimulatePrincipalPolicy`` (its server answers 500): against
moto the permission check is skipped and says why; the simulation itself is covered with
``botocore.stub.Stubber`` on the real IAM client.
"""

from __future__ import annotations

import pytest
from botocore.stub import Stubber
from kepler.api import load_config
from kepler_aws.clients import Aws
from kepler_aws.validate import (
    DEPLOY_ACTIONS,
    PROVISION_ACTIONS,
    checks,
    principal_arn,
    run_checks,
)


def by_check(results):
    return {r.check: r for r in results}


def test_against_moto_credentials_and_region_pass_and_simulation_is_skipped(moto, kepler_cli):
    results = by_check(checks(load_config()))
    assert results["aws: region eu-west-1"].status == "pass"
    credentials = results["aws: credentials"]
    assert credentials.status == "pass" and "account 123456789012" in credentials.detail
    assert results["aws: permissions"].status == "skip"
    assert "iam:SimulatePrincipalPolicy" in results["aws: permissions"].hint
    shown = kepler_cli("config", "validate")
    assert "aws: credentials" in shown.out + shown.err


def test_the_simulation_names_what_is_denied(moto):
    aws = Aws(load_config().section("aws"), env="dev")
    caller = "arn:aws:sts::123456789012:assumed-role/deployer/alice"
    wanted = list(dict.fromkeys((*DEPLOY_ACTIONS, *PROVISION_ACTIONS)))
    with Stubber(aws.client("sts")) as sts, Stubber(aws.client("iam")) as iam:
        sts.add_response("get_caller_identity", {"UserId": "AROA:alice", "Account":
                                                 "123456789012", "Arn": caller})
        for start in range(0, len(wanted), 50):
            chunk = wanted[start:start + 50]
            iam.add_response("simulate_principal_policy", {"EvaluationResults": [
                {"EvalActionName": action, "EvalDecision": "implicitDeny"
                 if action in ("iam:PassRole", "ecs:CreateCluster") else "allowed"}
                for action in chunk]},
                {"PolicySourceArn": "arn:aws:iam::123456789012:role/deployer",
                 "ActionNames": chunk})
        results = by_check(run_checks(aws))
    deploy, provision = results["aws: permissions to deploy"], \
        results["aws: permissions to provision"]
    assert deploy.status == "fail" and deploy.detail == "denied: iam:PassRole"
    assert provision.status == "fail" and provision.detail == "denied: ecs:CreateCluster"
    assert "arn:aws:iam::123456789012:role/deployer" in deploy.hint


def test_unknown_region_fails_and_no_region_skips(moto, monkeypatch, tmp_path):
    monkeypatch.setenv("KEPLER_AWS__REGION", "eu-middle-9")
    monkeypatch.delenv("KEPLER_AWS__ENDPOINT_URL")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto.url)
    results = by_check(checks(load_config()))
    assert results["aws: region eu-middle-9"].status == "fail"
    (tmp_path / "pumps" / "kepler.yml").write_text("project: {name: pumps}\n")
    monkeypatch.delenv("KEPLER_AWS__REGION")
    [skipped] = checks(load_config())
    assert skipped.status == "skip" and "aws.region is not set" in skipped.detail


@pytest.mark.parametrize(("caller", "principal"), [
    ("arn:aws:sts::1:assumed-role/r/s", "arn:aws:iam::1:role/r"),
    ("arn:aws:iam::1:user/u", "arn:aws:iam::1:user/u")])
def test_principal_of_a_session(caller, principal):
    assert principal_arn(caller) == principal
