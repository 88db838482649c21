"""The ECS services of a deployment, and waiting for them.

A deployment NAME is one or two ECS services, ``<service>-blue`` and ``<service>-green`` (the
service ID is ``aws.service_name``), each behind its own target group; the listener of the
deployment on the environment's load balancer forwards to them by weight. Tags on the services
are the record (``managed-by: kepler``, ``kepler-deployment``, ``kepler-model``,
``kepler-version``, ``kepler-env``, ``kepler-role``: stable or canary, ``kepler-port``), so
nothing is kept on this machine.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Any

from .clients import Aws, tag_dict, tag_list
from .errors import AwsError, ServiceNotStableError
from .specs import SCALABLE_DIMENSION

SLOTS = ("blue", "green")


@dataclass
class Slot:
    """One ECS service of a deployment."""

    name: str
    arn: str
    tags: dict[str, str]
    raw: dict[str, Any]

    @property
    def role(self) -> str:
        return self.tags.get("kepler-role", "stable")

    @property
    def target_group(self) -> str:
        balancers = self.raw.get("loadBalancers") or [{}]
        return str(balancers[0].get("targetGroupArn", ""))

    @property
    def task_definition(self) -> str:
        return str(self.raw.get("taskDefinition", ""))


def slot_names(service_id: str) -> list[str]:
    return [f"{service_id}-{slot}" for slot in SLOTS]


def describe(aws: Aws, service_id: str) -> list[Slot]:
    """The deployment's active services (none: not deployed)."""
    def missing_cluster(exc: BaseException) -> Exception | None:
        from .errors import error_code

        return _NoCluster() if error_code(exc) == "ClusterNotFoundException" else None

    try:
        answer = aws.call("ecs", "describe_services", cluster=aws.settings.cluster,
                          services=slot_names(service_id), include=["TAGS"],
                          doing=f"reading the services of {service_id}", guard=missing_cluster)
    except _NoCluster:
        return []
    if answer is None:
        return []
    return [Slot(s["serviceName"], s["serviceArn"], tag_dict(s.get("tags")), s)
            for s in answer.get("services", []) if s.get("status") == "ACTIVE"]


class _NoCluster(Exception):
    pass


def retag(aws: Aws, slot: Slot, tags: dict[str, str]) -> None:
    """Set tags on the service (the record of what it serves)."""
    aws.call("ecs", "tag_resource", resourceArn=slot.arn, tags=tag_list(tags),
             doing=f"tagging service {slot.name}")
    slot.tags.update(tags)


def stable(service: dict[str, Any]) -> bool | None:
    """True: the rollout completed; False: it failed (the circuit breaker rolled it back);
    None: still in progress."""
    primary = [d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"]
    if not primary:
        return None
    state = primary[0].get("rolloutState")
    if state == "FAILED":
        return False
    done = len(service.get("deployments", [])) == 1 and \
        int(service.get("runningCount", 0)) >= int(service.get("desiredCount", 0))
    return True if state == "COMPLETED" or (state is None and done) else None


def wait_stable(aws: Aws, service_name: str, *, name: str, doing: str) -> dict[str, Any] | None:
    """Poll until the service's newest rollout completes; a rollout that fails or never
    completes is a :class:`ServiceNotStableError` with the stopped task's reason."""
    cluster = aws.settings.cluster
    deadline = time.monotonic() + aws.settings.ready_timeout
    while True:
        answer = aws.call("ecs", "describe_services", cluster=cluster, services=[service_name],
                          doing=doing, note="repeated until the rollout completes")
        if answer is None:
            return None
        service = answer["services"][0]
        state = stable(service)
        if state:
            return dict(service)
        if state is False or time.monotonic() > deadline:
            raise not_stable(aws, service, name=name, failed=state is False)
        time.sleep(aws.settings.poll_interval)


def stopped_reason(aws: Aws, service_name: str) -> str:
    """Why the service's last task stopped (ECS's stoppedReason and the container's reason)."""
    cluster = aws.settings.cluster
    arns = aws.call("ecs", "list_tasks", cluster=cluster, serviceName=service_name,
                    desiredStatus="STOPPED", doing="listing stopped tasks")["taskArns"]
    if not arns:
        return ""
    tasks = aws.call("ecs", "describe_tasks", cluster=cluster, tasks=arns[:10],
                     doing="reading stopped tasks")["tasks"]
    tasks.sort(key=lambda t: str(t.get("stoppedAt", "")), reverse=True)
    for task in tasks:
        parts = [task.get("stoppedReason", "")]
        parts += [f"{c['name']}: {c['reason']}" for c in task.get("containers", [])
                  if c.get("reason")]
        text = "; ".join(p for p in parts if p)
        if text:
            return text
    return ""


def not_stable(aws: Aws, service: dict[str, Any], *, name: str,
               failed: bool) -> ServiceNotStableError:
    service_name = service["serviceName"]
    try:
        reason = stopped_reason(aws, service_name)
    except AwsError:
        reason = ""
    events = [e.get("message", "") for e in service.get("events", [])[:1]]
    primary = next((d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"),
                   {})
    reason = reason or primary.get("rolloutStateReason") or (events[0] if events else "")
    what = "failed; the deployment circuit breaker rolled it back" if failed else \
        f"did not become stable within {aws.settings.ready_timeout:.0f} s"
    port_hint = " The container must listen on $PORT (8080) and answer /ready;" \
        if "health" in reason.lower() else ""
    return ServiceNotStableError(
        f"ECS service {service_name} {what}" + (f": {reason}" if reason else "."),
        hint=(port_hint + f" 'kepler deploy logs {name} --target aws' shows the container's "
              "output; traffic stays on what served before.").strip(), reason=reason or None)


def apply_scaling(aws: Aws, service_name: str, requests: list[tuple[str, dict]]) -> None:
    for method, params in requests:
        aws.call("application-autoscaling", method, **params,
                 doing=f"setting up autoscaling of {service_name}")


def retire(aws: Aws, slot: Slot) -> None:
    """Stop a service for good: autoscaling off, no tasks, service and target group gone."""
    cluster = aws.settings.cluster
    resource = f"service/{cluster}/{slot.name}"

    def ignore_missing(exc: BaseException) -> Exception | None:
        from .errors import error_code

        # a target group still held by the draining service stays; a later canary in this
        # slot re-creates it under the same name, which ELB answers with the existing one
        return _Gone() if error_code(exc) in ("ObjectNotFoundException", "TargetGroupNotFound",
                                              "ResourceInUse") else None

    with contextlib.suppress(_Gone):
        aws.call("application-autoscaling", "deregister_scalable_target",
                 ServiceNamespace="ecs", ResourceId=resource,
                 ScalableDimension=SCALABLE_DIMENSION, guard=ignore_missing,
                 doing=f"removing the autoscaling of {slot.name}")
    aws.call("ecs", "delete_service", cluster=cluster, service=slot.name, force=True,
             doing=f"deleting service {slot.name}")
    if slot.target_group:
        with contextlib.suppress(_Gone):
            aws.call("elbv2", "delete_target_group", TargetGroupArn=slot.target_group,
                     guard=ignore_missing, doing=f"deleting the target group of {slot.name}")


class _Gone(Exception):
    pass
