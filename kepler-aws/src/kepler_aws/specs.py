"""The requests' bodies: task definition, target group, service, autoscaling.

Pure functions of the settings and what was read, so a dry run prints exactly what a deployment
sends. The container:

- Fargate, ``awsvpc``; CPU and memory sized from the model's artifact (:func:`size_memory`);
- port 8080 and the model server's liveness route ``/health`` as the container health check
  (the same Python one-liner as kepler-serve's Dockerfile ``HEALTHCHECK``: the image has no
  curl); the target group checks readiness on ``/ready``;
- logs to the CloudWatch log group ``aws.log_group`` (awslogs, stream prefix = the service);
- the Splunk HEC token (and every ``aws.secret_env``) as ECS ``secrets`` read from Secrets
  Manager by the execution role, never as an ``environment`` value.
"""

from __future__ import annotations

import hashlib
from typing import Any

from .clients import Aws, slug, tag_list
from .config import AwsSettings

PORT = 8080
HEALTH_PATH = "/health"
READY_PATH = "/ready"
CONTAINER = "model"
HEC_TOKEN_ENV = "KEPLER_SPLUNK__HEC_TOKEN"  # noqa: S105 - a variable name
#: The model server's worker processes (``serve.workers``), set from the task's vCPUs.
WORKERS_ENV = "KEPLER_SERVE__WORKERS"
HEALTHCHECK = ("import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' "
               "% os.environ.get('PORT', '8080'), timeout=4)")
_MEMORY_STEPS = (512, 1024, 2048, 4096, 8192, 16384, 30720)
_CPU_FOR_MEMORY = {512: 256, 1024: 512, 2048: 1024, 4096: 1024, 8192: 2048, 16384: 2048,
                   30720: 4096}
SCALABLE_DIMENSION = "ecs:service:DesiredCount"


def size_memory(artifact_bytes: int) -> int:
    """Memory (MiB) for a model of ``artifact_bytes``: the server and Python (~400 MiB) plus
    three times the artifact (loaded model, copies while scoring), at a Fargate step."""
    need = 400 + 3 * artifact_bytes / 2**20
    return next((step for step in _MEMORY_STEPS if step >= need), _MEMORY_STEPS[-1])


def cpu_for(memory: int) -> int:
    """The fewest CPU units Fargate allows with ``memory`` MiB."""
    fitting = [m for m in _CPU_FOR_MEMORY if m >= memory]
    return _CPU_FOR_MEMORY[fitting[0]] if fitting else 4096


def role_arn(aws: Aws, role: str) -> str:
    return role if role.startswith("arn:") else f"arn:aws:iam::{aws.account()}:role/{role}"


def secret_arn(aws: Aws, ref: str) -> str:
    """The ARN of Secrets Manager secret ``ref`` (a name or an ARN): ECS ``valueFrom`` takes
    the ARN, so a misspelt name fails here and not in every task start."""
    if ref.startswith("arn:"):
        return ref
    answer = aws.call("secretsmanager", "describe_secret", SecretId=ref,
                      doing=f"looking up secret {ref}")
    if answer is None:  # dry run
        return f"arn:aws:secretsmanager:{aws.region}:<account>:secret:{ref}-<suffix>"
    return str(answer["ARN"])


def container_secrets(aws: Aws, settings: AwsSettings) -> list[dict[str, str]]:
    refs = dict(settings.secret_env)
    if settings.hec_token_secret:
        refs.setdefault(HEC_TOKEN_ENV, settings.hec_token_secret)
    return [{"name": key, "valueFrom": secret_arn(aws, ref)} for key, ref in sorted(refs.items())]


def workers_for(cpu_units: int, workers: int | str = "auto") -> int:
    """Model-server workers for a task of ``cpu_units`` (1024 a vCPU): one per whole vCPU, at
    least 1, unless ``workers`` names a number."""
    return int(workers) if workers != "auto" else max(1, cpu_units // 1024)


def container_environment(settings: AwsSettings, env: str,
                          cpu_units: int | None = None) -> list[dict[str, str]]:
    """Plain variables of the container: the user's ``env_vars`` win over the server's
    workers for ``cpu_units`` and the Splunk shorthand."""
    values = {"KEPLER_ENV": env, "PORT": str(PORT), **settings.env_vars}
    if cpu_units is not None:
        values.setdefault(WORKERS_ENV, str(workers_for(cpu_units, settings.workers)))
    if settings.hec_token_secret:
        values.setdefault("KEPLER_SERVE__LOG_TO_SPLUNK", "true")
    return [{"name": k, "value": str(v)} for k, v in sorted(values.items())]


def model_tags(name: str, manifest: Any) -> dict[str, str]:
    version = "unsaved" if manifest.version is None else str(manifest.version)
    return {"kepler-deployment": name, "kepler-model": manifest.name, "kepler-version": version}


def task_definition(aws: Aws, family: str, image: str, manifest: Any, *,
                    secrets: list[dict[str, str]], tags: dict[str, str]) -> dict[str, Any]:
    """``RegisterTaskDefinition``'s parameters for the model's container."""
    settings = aws.settings
    size = int(manifest.size_bytes or sum(f.size for f in manifest.files.values()))
    memory = size_memory(size) if settings.memory == "auto" else int(settings.memory)
    cpu = cpu_for(memory) if settings.cpu == "auto" else int(settings.cpu)
    container: dict[str, Any] = {
        "name": CONTAINER, "image": image, "essential": True,
        "portMappings": [{"containerPort": PORT, "protocol": "tcp"}],
        "environment": container_environment(settings, aws.env, cpu),
        "secrets": secrets,
        "healthCheck": {"command": ["CMD", "python", "-c", HEALTHCHECK], "interval": 30,
                        "timeout": 5, "retries": 3, "startPeriod": 60},
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": settings.log_group, "awslogs-region": aws.region,
            "awslogs-stream-prefix": family}},
        "stopTimeout": 30,
    }
    return {"family": family, "requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc",
            "cpu": str(cpu), "memory": str(memory),
            "executionRoleArn": role_arn(aws, settings.execution_role),
            "taskRoleArn": role_arn(aws, settings.task_role),
            "runtimePlatform": {"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"},
            "containerDefinitions": [container], "tags": tag_list(tags)}


def target_group_name(service_id: str, slot: str, cluster: str) -> str:
    """At most 32 characters, unique per cluster, service and slot (blue/green)."""
    digest = hashlib.sha1(f"{cluster}/{service_id}".encode()).hexdigest()[:6]  # noqa: S324
    return f"{slug(service_id, 20)}-{digest}-{slot[0]}"


def target_group(name: str, vpc_id: str, tags: dict[str, str]) -> dict[str, Any]:
    params: dict[str, Any] = {
        "Name": name, "Protocol": "HTTP", "Port": PORT, "VpcId": vpc_id, "TargetType": "ip",
        "HealthCheckProtocol": "HTTP", "HealthCheckPath": READY_PATH,
        "HealthCheckIntervalSeconds": 15, "HealthyThresholdCount": 2,
        "UnhealthyThresholdCount": 3, "Matcher": {"HttpCode": "200"}}
    if tags:  # ELB refuses an empty tag list
        params["Tags"] = tag_list(tags, "Key", "Value")
    return params


def forward(weights: dict[str, int]) -> list[dict[str, Any]]:
    """A listener's action: forward to target groups by weight (a canary: two of them)."""
    groups = [{"TargetGroupArn": arn, "Weight": weight} for arn, weight in weights.items()]
    return [{"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}]


def service(aws: Aws, name: str, task_def: str, target_group_arn: str, *,
            subnets: list[str], security_groups: list[str],
            tags: dict[str, str]) -> dict[str, Any]:
    """``CreateService``'s parameters: Fargate behind the target group, with the deployment
    circuit breaker (a rollout whose tasks do not become healthy is rolled back)."""
    settings = aws.settings
    return {
        "cluster": settings.cluster, "serviceName": name, "taskDefinition": task_def,
        "desiredCount": settings.min_tasks, "launchType": "FARGATE",
        "networkConfiguration": {"awsvpcConfiguration": {
            "subnets": subnets, "securityGroups": security_groups,
            "assignPublicIp": "ENABLED" if settings.assign_public_ip else "DISABLED"}},
        "loadBalancers": [{"targetGroupArn": target_group_arn, "containerName": CONTAINER,
                           "containerPort": PORT}],
        "healthCheckGracePeriodSeconds": 60,
        "deploymentConfiguration": deployment_configuration(),
        "propagateTags": "SERVICE", "enableECSManagedTags": True,
        "tags": tag_list(tags),
    }


def deployment_configuration() -> dict[str, Any]:
    return {"deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "maximumPercent": 200, "minimumHealthyPercent": 100}


def resource_label(lb_arn: str, tg_arn: str) -> str:
    """ALBRequestCountPerTarget's label: ``app/<lb>/<id>/targetgroup/<tg>/<id>``."""
    return f"{lb_arn.split(':loadbalancer/', 1)[-1]}/{tg_arn.split(':', 5)[-1]}"


def scaling(settings: AwsSettings, resource_id: str, label: str) -> list[tuple[str, dict]]:
    """Application Auto Scaling: the scalable target, then target tracking on requests per
    task and on CPU (whichever asks for more tasks wins)."""
    common = {"ServiceNamespace": "ecs", "ResourceId": resource_id,
              "ScalableDimension": SCALABLE_DIMENSION}
    tracking = [("requests", "ALBRequestCountPerTarget", float(settings.target_requests_per_task),
                 label),
                ("cpu", "ECSServiceAverageCPUUtilization", settings.target_cpu_percent, None)]
    out: list[tuple[str, dict]] = [("register_scalable_target", {
        **common, "MinCapacity": settings.min_tasks, "MaxCapacity": settings.max_tasks})]
    for suffix, metric, target, resource in tracking:
        spec: dict[str, Any] = {"PredefinedMetricType": metric}
        if resource:
            spec["ResourceLabel"] = resource
        out.append(("put_scaling_policy", {
            **common, "PolicyName": f"kepler-{suffix}", "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": {
                "TargetValue": target, "PredefinedMetricSpecification": spec,
                "ScaleInCooldown": 120, "ScaleOutCooldown": 60}}))
    return out
