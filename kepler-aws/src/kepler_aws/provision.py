"""``kepler aws provision``: what deployments need, made to exist, idempotently.

For the environment in force (``--env``), each resource is read first and created only when
missing, so a second run changes nothing (the roles' inline policies are put again, which
keeps them current):

1. the ECR repository ``aws.repository``;
2. the ECS cluster ``aws.cluster``;
3. the CloudWatch log group ``aws.log_group``;
4. the S3 bucket for CodeBuild sources and the CodeBuild project ``aws.codebuild_project``;
5. the IAM roles, each with a least-privilege inline policy: the task execution role (pull
   this repository's images, write this log group, read these secrets), the task role (no
   permissions: the model server calls no AWS API) and CodeBuild's role;
6. security groups ``kepler-lb-<env>`` (the listener ports) and ``kepler-tasks-<env>`` (port
   8080 from the load balancer only), and the Application Load Balancer (public or internal);
7. the Secrets Manager secrets the containers read (``aws.hec_token_secret``, every
   ``aws.secret_env``), with their first value from Kepler's secret store when it has one.

Listeners are not made here: each deployment gets its own, on its own port.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import network
from .clients import Aws, PlannedRequest, tag_list
from .config import AwsSettings
from .errors import AwsError, error_code
from .image import BUILDSPEC
from .specs import PORT


@dataclass(frozen=True)
class Step:
    """One resource: what it is and what provisioning did (exists, created, would create)."""

    resource: str
    name: str
    action: str
    detail: str = ""


def trust(service: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})


def policy(*statements: tuple[list[str], list[str]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": actions, "Resource": resources}
        for actions, resources in statements if resources]})


class Provisioner:
    """Runs the steps; in a dry run records every request instead."""

    def __init__(self, settings: AwsSettings, *, env: str = "dev", dry_run: bool = False,
                 local_secret: Callable[[str], str | None] | None = None,
                 aws: Aws | None = None) -> None:
        self.aws = aws or Aws(settings, env=env, plan=[] if dry_run else None)
        self.settings = self.aws.settings
        self.local_secret = local_secret or _local_secret
        self.steps: list[Step] = []
        self.secret_arns: list[str] = []

    @property
    def plan(self) -> list[PlannedRequest]:
        return self.aws.plan or []

    def run(self) -> list[Step]:
        self.aws.region  # noqa: B018 - refuse early without a region
        self.repository()
        self.cluster()
        self.log_group()
        for secret in self.secret_names():
            self.secret(secret)
        self.roles()
        self.bucket()
        self.codebuild()
        self.load_balancer()
        return self.steps

    # --- helpers ------------------------------------------------------------------------------

    def _exists(self, service: str, method: str, missing: tuple[str, ...], *, doing: str,
                found: Callable[[Any], bool] | None = None, **params: Any) -> bool | None:
        """Whether the resource exists (None in a dry run: not asked)."""
        class Missing(Exception):
            pass

        try:
            answer = self.aws.call(service, method, doing=doing, note="create below only when "
                                   "missing", guard=lambda exc: Missing()
                                   if error_code(exc) in missing else None, **params)
        except Missing:
            return False
        if answer is None:
            return None
        return found(answer) if found else True

    def _record(self, resource: str, name: str, exists: bool | None, detail: str = "") -> None:
        action = "would create if missing" if exists is None else \
            "exists" if exists else "created"
        self.steps.append(Step(resource, name, action, detail))

    # --- resources ----------------------------------------------------------------------------

    def repository(self) -> None:
        name = self.settings.repository
        exists = self._exists("ecr", "describe_repositories", ("RepositoryNotFoundException",),
                              repositoryNames=[name], doing=f"reading ECR repository {name}")
        if not exists:
            self.aws.call("ecr", "create_repository", repositoryName=name,
                          imageScanningConfiguration={"scanOnPush": True},
                          tags=tag_list(self.aws.tags(), "Key", "Value"),
                          doing=f"creating ECR repository {name}")
        self._record("ECR repository", name, exists)

    def cluster(self) -> None:
        name = self.settings.cluster
        exists = self._exists("ecs", "describe_clusters", (), clusters=[name],
                              found=lambda a: any(c.get("status") == "ACTIVE"
                                                  for c in a["clusters"]),
                              doing=f"reading ECS cluster {name}")
        if not exists:
            self.aws.call("ecs", "create_cluster", clusterName=name,
                          settings=[{"name": "containerInsights", "value": "enabled"}],
                          tags=tag_list(self.aws.tags()), doing=f"creating ECS cluster {name}")
        self._record("ECS cluster", name, exists)

    def log_group(self) -> None:
        name = self.settings.log_group
        exists = self._exists("logs", "describe_log_groups", (), logGroupNamePrefix=name,
                              found=lambda a: any(g["logGroupName"] == name
                                                  for g in a["logGroups"]),
                              doing=f"reading log group {name}")
        if not exists:
            self.aws.call("logs", "create_log_group", logGroupName=name, tags=self.aws.tags(),
                          doing=f"creating log group {name}")
            self.aws.call("logs", "put_retention_policy", logGroupName=name,
                          retentionInDays=30, doing=f"setting the retention of {name}")
        self._record("CloudWatch log group", name, exists)

    def bucket(self) -> None:
        bucket = self.aws.bucket()
        exists = self._exists("s3", "head_bucket", ("404", "NoSuchBucket", "NotFound"),
                              Bucket=bucket, doing=f"reading bucket {bucket}")
        if not exists:
            params: dict[str, Any] = {"Bucket": bucket}
            if self.aws.region != "us-east-1":
                params["CreateBucketConfiguration"] = {"LocationConstraint": self.aws.region}
            self.aws.call("s3", "create_bucket", **params, doing=f"creating bucket {bucket}")
            self.aws.call("s3", "put_public_access_block", Bucket=bucket,
                          PublicAccessBlockConfiguration={
                              "BlockPublicAcls": True, "IgnorePublicAcls": True,
                              "BlockPublicPolicy": True, "RestrictPublicBuckets": True},
                          doing=f"blocking public access to {bucket}")
        self._record("S3 bucket (build sources)", f"s3://{bucket}", exists)

    def codebuild(self) -> None:
        name = self.settings.codebuild_project
        exists = self._exists("codebuild", "batch_get_projects", (), names=[name],
                              found=lambda a: bool(a.get("projects")),
                              doing=f"reading CodeBuild project {name}")
        if not exists:
            self.aws.call(
                "codebuild", "create_project", name=name,
                description="Builds Kepler model images (kepler-aws)",
                source={"type": "S3", "location": f"{self.aws.bucket()}/kepler/",
                        "buildspec": BUILDSPEC},
                artifacts={"type": "NO_ARTIFACTS"},
                environment={"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0",
                             "computeType": "BUILD_GENERAL1_MEDIUM", "privilegedMode": True},
                serviceRole=self._role_arn("kepler-codebuild"),
                tags=tag_list(self.aws.tags(), "key", "value"),
                doing=f"creating CodeBuild project {name}")
        self._record("CodeBuild project", name, exists)

    def _role_arn(self, name: str) -> str:
        return name if name.startswith("arn:") else \
            f"arn:aws:iam::{self.aws.account()}:role/{name}"

    def roles(self) -> None:
        from .roles import role_policies

        for name, service, document in role_policies(self):
            if name.startswith("arn:"):
                self._record("IAM role", name, True, "given as an ARN: not managed here")
                continue
            exists = self._exists("iam", "get_role", ("NoSuchEntity",), RoleName=name,
                                  doing=f"reading IAM role {name}")
            if not exists:
                self.aws.call("iam", "create_role", RoleName=name,
                              AssumeRolePolicyDocument=trust(service),
                              Description="Kepler (kepler-aws)",
                              Tags=tag_list(self.aws.tags(), "Key", "Value"),
                              doing=f"creating IAM role {name}")
            if document is not None:
                self.aws.call("iam", "put_role_policy", RoleName=name, PolicyName="kepler",
                              PolicyDocument=document,
                              doing=f"setting the permissions of role {name}")
            self._record("IAM role", name, exists, f"assumed by {service}")

    def load_balancer(self) -> None:
        vpc_id = network.default_vpc(self.aws)
        lb_group = self.security_group(network.lb_group_name(self.aws.env), vpc_id,
                                       self._lb_ingress(vpc_id))
        self.security_group(network.task_group_name(self.aws.env), vpc_id, [{
            "IpProtocol": "tcp", "FromPort": PORT, "ToPort": PORT,
            "UserIdGroupPairs": [{"GroupId": lb_group}]}])
        name = self.settings.lb_name(self.aws.env)
        exists = None if self.aws.dry_run else network.load_balancer(self.aws) is not None
        if not exists:
            self.aws.call("elbv2", "create_load_balancer", Name=name, Type="application",
                          Scheme=self.settings.scheme(), IpAddressType="ipv4",
                          Subnets=network.subnets(self.aws, vpc_id), SecurityGroups=[lb_group],
                          Tags=tag_list(self.aws.tags(), "Key", "Value"),
                          doing=f"creating load balancer {name}")
        self._record("Application Load Balancer", name, exists, self.settings.scheme())

    def _lb_ingress(self, vpc_id: str) -> list[dict[str, Any]]:
        """The listener ports, from anywhere (public) or from the VPC (internal)."""
        first = self.settings.first_listener_port
        if self.settings.load_balancer == "public":
            ranges = [{"CidrIp": "0.0.0.0/0"}]
        else:
            answer = self.aws.call("ec2", "describe_vpcs", VpcIds=[vpc_id],
                                   doing=f"reading VPC {vpc_id}")
            cidr = answer["Vpcs"][0]["CidrBlock"] if answer else "<the VPC's CIDR>"
            ranges = [{"CidrIp": cidr}]
        return [{"IpProtocol": "tcp", "FromPort": first,
                 "ToPort": first + self.settings.listener_ports - 1, "IpRanges": ranges}]

    def security_group(self, name: str, vpc_id: str, ingress: list[dict[str, Any]]) -> str:
        group = network.security_group(self.aws, name, vpc_id)
        exists = None if self.aws.dry_run else group is not None
        if not exists:
            answer = self.aws.call("ec2", "create_security_group", GroupName=name,
                                   Description=f"Kepler {name}", VpcId=vpc_id,
                                   TagSpecifications=[{"ResourceType": "security-group",
                                                       "Tags": tag_list(self.aws.tags(), "Key",
                                                                        "Value")}],
                                   doing=f"creating security group {name}")
            group = answer["GroupId"] if answer else f"<security group {name}>"
            self.aws.call("ec2", "authorize_security_group_ingress", GroupId=group,
                          IpPermissions=ingress, doing=f"opening security group {name}")
        self._record("security group", name, exists)
        return str(group)

    def secret_names(self) -> list[str]:
        names = list(self.settings.secret_env.values())
        if self.settings.hec_token_secret:
            names.insert(0, self.settings.hec_token_secret)
        return list(dict.fromkeys(names))

    def secret(self, secret: str) -> None:
        answer = None
        try:
            answer = self.aws.call("secretsmanager", "describe_secret", SecretId=secret,
                                   doing=f"reading secret {secret}",
                                   note="create below only when missing")
            exists: bool | None = None if answer is None else True
        except AwsError as exc:
            if error_code(exc.__cause__) != "ResourceNotFoundException":
                raise
            exists = False
        detail = ""
        if exists is False:
            value = self.local_secret(secret)
            params: dict[str, Any] = {"Name": secret, "Description": "Read by Kepler models "
                                      "on ECS", "Tags": tag_list(self.aws.tags(), "Key", "Value")}
            if value is not None:
                params["SecretString"] = value
            answer = self.aws.call("secretsmanager", "create_secret", **params,
                                   doing=f"creating secret {secret}")
            detail = "value from Kepler's secret store" if value is not None else \
                f"empty: aws secretsmanager put-secret-value --secret-id {secret} " \
                "--secret-string ..."
        self.secret_arns.append(str(answer["ARN"]) if answer else
                                f"arn:aws:secretsmanager:{self.aws.region}:<account>:secret:"
                                f"{secret}-*")
        self._record("Secrets Manager secret", secret, exists, detail)


def _local_secret(name: str) -> str | None:
    from kepler.api import KeplerError
    from kepler.api import secret_store as get_store

    try:
        return get_store().lookup(name)
    except KeplerError:
        return None


def provision(settings: AwsSettings, *, env: str = "dev", dry_run: bool = False
              ) -> tuple[list[Step], list[PlannedRequest]]:
    """Make sure everything deployments need exists; return the steps and, in a dry run,
    every request that would be sent."""
    provisioner = Provisioner(settings, env=env, dry_run=dry_run)
    steps = provisioner.run()
    return steps, provisioner.plan


__all__ = ["Provisioner", "Step", "policy", "provision"]
