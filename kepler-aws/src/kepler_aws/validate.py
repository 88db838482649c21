"""``kepler config validate`` for the ``aws`` section: credentials, region, permissions.

Skipped while ``aws.region`` is unset (a project that does not deploy to AWS). Credentials are
checked with STS ``GetCallerIdentity``; the region against the regions botocore knows for ECS;
permissions with IAM's ``SimulatePrincipalPolicy`` for the caller (a user or the role behind an
assumed-role session), naming every action deploy and provision need that is denied. Where the
simulation itself is not allowed (no ``iam:SimulatePrincipalPolicy``, or an SSO or federated
session), that check is skipped and says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from kepler.api import CheckResult, KeplerError

#: What deploying needs (kepler deploy, rollout, logs).
DEPLOY_ACTIONS = (
    "ecs:RegisterTaskDefinition", "ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions",
    "ecs:CreateService", "ecs:UpdateService", "ecs:DeleteService", "ecs:DescribeServices",
    "ecs:ListServices", "ecs:ListTasks", "ecs:DescribeTasks", "ecs:TagResource",
    "elasticloadbalancing:CreateTargetGroup", "elasticloadbalancing:DeleteTargetGroup",
    "elasticloadbalancing:CreateListener", "elasticloadbalancing:ModifyListener",
    "elasticloadbalancing:DeleteListener", "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:AddTags",
    "application-autoscaling:RegisterScalableTarget",
    "application-autoscaling:DeregisterScalableTarget",
    "application-autoscaling:PutScalingPolicy", "ec2:DescribeVpcs", "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups", "ecr:DescribeImages", "codebuild:StartBuild",
    "codebuild:BatchGetBuilds", "s3:PutObject", "secretsmanager:DescribeSecret",
    "logs:FilterLogEvents", "iam:PassRole",
)
#: What ``kepler aws provision`` needs besides.
PROVISION_ACTIONS = (
    "ecr:CreateRepository", "ecr:DescribeRepositories", "ecs:CreateCluster",
    "ecs:DescribeClusters", "logs:CreateLogGroup", "logs:DescribeLogGroups",
    "logs:PutRetentionPolicy", "s3:CreateBucket", "s3:PutBucketPublicAccessBlock",
    "codebuild:CreateProject", "codebuild:BatchGetProjects", "iam:CreateRole", "iam:GetRole",
    "iam:PutRolePolicy", "ec2:CreateSecurityGroup", "ec2:AuthorizeSecurityGroupIngress",
    "elasticloadbalancing:CreateLoadBalancer", "secretsmanager:CreateSecret",
)
_ASSUMED = re.compile(r"^arn:(?P<partition>[^:]+):sts::(?P<account>\d+):assumed-role/"
                      r"(?P<role>[^/]+)/")


def principal_arn(caller_arn: str) -> str:
    """The IAM principal to simulate: an assumed-role session's role, else the caller."""
    match = _ASSUMED.match(caller_arn)
    if match:
        return f"arn:{match['partition']}:iam::{match['account']}:role/{match['role']}"
    return caller_arn


def checks(config: Any, aws: Any = None) -> Iterator[CheckResult]:
    from .clients import Aws

    try:
        settings = config.section("aws")
    except KeplerError as exc:
        yield CheckResult(check="aws: configuration", status="fail", detail=exc.message,
                          hint=exc.hint or "")
        return
    if not settings.region:
        yield CheckResult(check="aws: region", status="skip",
                          detail="aws.region is not set (no AWS deployments)",
                          hint="Set aws.region (or KEPLER_AWS__REGION) to deploy to AWS.")
        return
    aws = aws or Aws(settings, env=getattr(config, "env", "dev") or "dev")
    yield from run_checks(aws)


def run_checks(aws: Any) -> Iterator[CheckResult]:
    """The checks on one :class:`~kepler_aws.clients.Aws` (tests pass one with stubs)."""
    region = aws.region
    known = set(aws.session().get_available_regions("ecs"))
    # an unknown name passes only with a configured endpoint (emulators, private partitions)
    fine = region in known or bool(aws.settings.endpoint_url)
    yield CheckResult(check=f"aws: region {region}", status="pass" if fine else "fail",
                      detail="" if region in known else "not a region ECS is offered in",
                      hint="" if fine else "Check aws.region (e.g. eu-west-1).")
    try:
        identity = aws.call("sts", "get_caller_identity", doing="checking the credentials")
    except KeplerError as exc:
        yield CheckResult(check="aws: credentials", status="fail", detail=exc.message,
                          hint=exc.hint or "")
        return
    yield CheckResult(check="aws: credentials", status="pass",
                      detail=f"{identity['Arn']} (account {identity['Account']})")
    yield from permission_checks(aws, principal_arn(str(identity["Arn"])))


def permission_checks(aws: Any, principal: str) -> Iterator[CheckResult]:
    wanted = list(dict.fromkeys((*DEPLOY_ACTIONS, *PROVISION_ACTIONS)))
    decisions: dict[str, str] = {}
    try:
        for start in range(0, len(wanted), 50):
            answer = aws.call("iam", "simulate_principal_policy", PolicySourceArn=principal,
                              ActionNames=wanted[start:start + 50],
                              doing="simulating IAM permissions")
            for result in answer["EvaluationResults"]:
                decisions[result["EvalActionName"]] = result["EvalDecision"]
    except KeplerError as exc:
        yield CheckResult(check="aws: permissions", status="skip",
                          detail=f"could not simulate the policies of {principal}: "
                          f"{exc.message}",
                          hint="Allow iam:SimulatePrincipalPolicy to check permissions, or "
                          "run 'kepler aws provision --dry-run' to see every request.")
        return
    for label, needed in (("deploy", DEPLOY_ACTIONS), ("provision", PROVISION_ACTIONS)):
        missing = [a for a in needed if decisions.get(a) != "allowed"]
        yield CheckResult(
            check=f"aws: permissions to {label}", status="fail" if missing else "pass",
            detail=f"denied: {', '.join(missing)}" if missing else
            f"all {len(needed)} actions allowed",
            hint=f"Allow them for {principal} (an IAM policy on the user or role)"
            if missing else "")
