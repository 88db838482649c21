"""The ``aws:`` configuration section: where and how models run on ECS on Fargate.

Every field can differ per environment through core's layering (``environments.<env>.aws``) and
be overridden by ``KEPLER_AWS__<FIELD>`` variables (``KEPLER_AWS__REGION=eu-west-1``)::

    aws:
      region: eu-west-1
      profile: plant-analytics            # a profile of ~/.aws/config; default: boto3's chain
      service_name: "{name}-{env}"        # the ECS services of deployment NAME
      load_balancer: public               # or internal
      min_tasks: 1
      max_tasks: 4
      target_requests_per_task: 200       # ALBRequestCountPerTarget target tracking
      hec_token_secret: kepler/hec-token  # Secrets Manager secret -> KEPLER_SPLUNK__HEC_TOKEN
    environments:
      prod:
        aws: {region: us-east-1, min_tasks: 2, max_tasks: 20, load_balancer: internal,
              subnets: [subnet-0a1b, subnet-0c2d], security_groups: [sg-0123]}

``endpoint_url`` points every AWS client at one address (moto, LocalStack); ``endpoints`` does
it per service (``{ecs: https://vpce-....ecs.eu-west-1.vpce.amazonaws.com}``) for VPC endpoints.
Unset, boto3 decides, and so its own ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_<SERVICE>``
variables and ``endpoint_url`` profile settings keep working: they are never overridden.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SECRET_WORDS = ("TOKEN", "PASSWORD", "SECRET", "API_KEY", "APIKEY", "PRIVATE_KEY", "CREDENTIAL")
#: Fargate's task sizes: CPU units -> the memory values (MiB) it allows.
FARGATE_CPU = (256, 512, 1024, 2048, 4096, 8192, 16384)


class AwsSettings(BaseModel):
    """AWS ECS on Fargate deployments (kepler-aws)."""

    model_config = ConfigDict(extra="forbid")

    region: str | None = Field(default=None, description="AWS region; unset: boto3's default "
                               "(AWS_REGION, the profile). 'kepler deploy list' asks AWS only "
                               "when it is set.", examples=["eu-west-1"])
    profile: str | None = Field(default=None, description="Named profile (~/.aws/config); "
                                "default: boto3's credential chain.")
    service_name: str = Field(default="{name}", description="The ECS service of deployment "
                              "NAME; {name} and {env} are replaced.", examples=["{name}-{env}"])
    cluster: str = Field(default="kepler", description="ECS cluster (made by 'kepler aws "
                         "provision').")
    repository: str = Field(default="kepler", description="ECR repository for model images "
                            "(tags <model>-v<version>).")
    log_group: str = Field(default="/kepler/models", description="CloudWatch log group of the "
                           "containers (awslogs).")
    # --- network and load balancer -----------------------------------------------------------
    vpc_id: str | None = Field(default=None, description="VPC; default: the account's default "
                               "VPC.")
    subnets: list[str] = Field(default_factory=list, description="Subnets of the tasks and the "
                               "load balancer; default: the VPC's subnets.")
    security_groups: list[str] = Field(default_factory=list, description="Security groups of "
                                       "the tasks; default: kepler-tasks (made by provision).")
    assign_public_ip: bool = Field(default=True, description="Give tasks a public IP (needed "
                                   "to pull images from public subnets without a NAT).")
    load_balancer: Literal["public", "internal"] = Field(
        default="public", description="public: an internet-facing ALB; internal: reachable from "
        "the VPC only.")
    load_balancer_name: str = Field(default="kepler-{env}", max_length=32,
                                    description="The Application Load Balancer shared by the "
                                    "deployments of an environment; {env} is replaced.")
    first_listener_port: int = Field(default=8000, ge=1, le=65000, description="Each "
                                     "deployment gets its own listener port on the load "
                                     "balancer, the first free one from here.")
    listener_ports: int = Field(default=100, ge=1, le=500, description="How many ports from "
                                "first_listener_port the load balancer opens.")
    # --- sizing and autoscaling ----------------------------------------------------------------
    cpu: int | Literal["auto"] = Field(default="auto", description="CPU units per task (256 = "
                                       "0.25 vCPU); auto: from the memory.")
    memory: int | Literal["auto"] = Field(default="auto", description="Memory per task in MiB; "
                                          "auto: from the model's artifact size.")
    workers: Annotated[int, Field(ge=1, le=64)] | Literal["auto"] = Field(
        default="auto", description="Model-server worker processes per task (the container's "
        "KEPLER_SERVE__WORKERS); auto: one per whole vCPU of the task (cpu / 1024, or the "
        "units auto gives the memory), at least 1. A KEPLER_SERVE__WORKERS in env_vars wins.",
        examples=[2, "auto"])
    min_tasks: int = Field(default=1, ge=1, le=1000, description="Fewest tasks autoscaling "
                           "keeps (at least 1: a load balancer cannot wake a service from "
                           "zero).")
    max_tasks: int = Field(default=4, ge=1, le=1000, description="Most tasks autoscaling "
                           "starts.")
    target_requests_per_task: int = Field(default=100, ge=1, description="Target tracking on "
                                          "ALBRequestCountPerTarget (requests per task per "
                                          "minute).")
    target_cpu_percent: float = Field(default=60.0, gt=0, le=100, description="Target "
                                      "tracking on ECSServiceAverageCPUUtilization.")
    # --- identity, build, environment ----------------------------------------------------------
    execution_role: str = Field(default="kepler-ecs-execution", description="Task execution "
                                "role (pulls the image, writes logs, reads the secrets).")
    task_role: str = Field(default="kepler-ecs-task", description="Role of the model server "
                           "itself.")
    builder: Literal["codebuild", "docker", "auto"] = Field(
        default="codebuild", description="Who builds the image: CodeBuild (from a source "
        "archive in S3), the local Docker engine, or auto (Docker where one answers).")
    codebuild_project: str = Field(default="kepler-image-build", description="CodeBuild "
                                   "project (made by provision).")
    staging_bucket: str | None = Field(default=None, description="S3 bucket for build sources "
                                       "(default: kepler-builds-<account>-<region>).")
    env_vars: dict[str, str] = Field(default_factory=dict, description="Plain environment "
                                     "variables (never secrets: see secret_env).")
    secret_env: dict[str, str] = Field(default_factory=dict, description="Variables read from "
                                       "Secrets Manager: NAME: SECRET (name or ARN).")
    hec_token_secret: str | None = Field(default=None, description="Secrets Manager secret "
                                         "holding the Splunk HEC token; the container gets it "
                                         "as KEPLER_SPLUNK__HEC_TOKEN, an ECS secret.")
    tags: dict[str, str] = Field(default_factory=dict, description="Extra tags of every "
                                 "resource.")
    # --- endpoints, retries, waiting -----------------------------------------------------------
    endpoint_url: str | None = Field(default=None, description="One endpoint for every AWS "
                                     "service (moto, LocalStack); unset: boto3's own.")
    endpoints: dict[str, str] = Field(default_factory=dict, description="Endpoint per service "
                                      "(ecs, elbv2, ecr, logs...), e.g. VPC endpoints.")
    max_attempts: int = Field(default=8, ge=1, le=20, description="Attempts per request "
                              "(botocore's standard retry mode: throttling is retried).")
    ready_timeout: float = Field(default=900.0, gt=0, description="Seconds to wait for a "
                                 "service to become stable.")
    build_timeout: float = Field(default=1800.0, gt=0, description="Seconds to wait for "
                                 "CodeBuild.")
    poll_interval: float = Field(default=10.0, gt=0, description="Seconds between polls.")

    @field_validator("cpu")
    @classmethod
    def _cpu(cls, value: int | str) -> int | str:
        if value != "auto" and int(value) not in FARGATE_CPU:
            raise ValueError(f"Fargate CPU units are one of {', '.join(map(str, FARGATE_CPU))}")
        return value

    @field_validator("env_vars")
    @classmethod
    def _plain_env(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if not _ENV_NAME.match(key):
                raise ValueError(f"{key!r} is not a valid environment variable name")
            if any(word in key.upper() for word in _SECRET_WORDS):
                raise ValueError(f"{key} looks like a secret: put it in Secrets Manager and "
                                 f"list it under aws.secret_env ({key}: SECRET_NAME)")
        return value

    # --- derived -------------------------------------------------------------------------------

    def service_id(self, name: str, env: str) -> str:
        """The base name of deployment ``name``'s ECS services in environment ``env``."""
        return self.service_name.format(name=name, env=env)

    def lb_name(self, env: str) -> str:
        return self.load_balancer_name.format(env=env)[:32]

    def scheme(self) -> str:
        return "internet-facing" if self.load_balancer == "public" else "internal"
