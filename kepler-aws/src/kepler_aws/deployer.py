"""The ``aws`` deployment target (a :class:`kepler.api.Deployer`): ECS on Fargate behind an
Application Load Balancer, with Application Auto Scaling.

A deployment NAME in environment ENV is the ECS service ``<aws.service_name>-blue`` (and, while
a canary runs, ``-green``) in cluster ``aws.cluster``, each behind its own target group; the
deployment's own listener on the environment's load balancer (``aws.load_balancer_name``, port
``aws.first_listener_port`` upwards) forwards to them by weight. Its URL is
``http://<load balancer DNS>:<port>``. Tags on the services are the record (see
:mod:`kepler_aws.services`), so nothing is kept on this machine.

Options (``-o KEY=VALUE`` on ``kepler deploy``, keywords of ``kp.deploy.to_aws``): any field of
the ``aws`` section (``min_tasks=2``, ``memory=4096``...) for this deployment only, plus
``image`` (pushed already: no build), ``canary`` (percent of traffic for the new revision,
updates only) and ``build_options`` (passed to kepler-serve's build context).

Beyond the protocol: :meth:`AwsDeployer.canary`, :meth:`~AwsDeployer.promote`,
:meth:`~AwsDeployer.rollback` (in :mod:`kepler_aws.rollout`), :meth:`~AwsDeployer.revisions`
and :meth:`~AwsDeployer.plan` (a dry run: every request, none sent), which core's generic
``kepler deploy --canary / --dry-run / promote / rollback`` call. The configuration (and so the
environment) arrives in ``__init__``: nothing here reads ``KEPLER_ENV``.
"""

from __future__ import annotations

import builtins
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kepler.api import Deployment, DeploymentError

from . import network, services, specs
from .clients import Aws, PlannedRequest, tag_list
from .config import AwsSettings
from .errors import AwsAlreadyExistsError, AwsError, ServiceNotFoundError
from .image import build_image, check_image
from .rollout import RolloutMixin

log = logging.getLogger(__name__)

TARGET = "aws"
#: Options besides the ``aws`` section's fields.
OPTIONS = ("image", "canary", "build_options")


class AwsDeployer(RolloutMixin):
    """Deploys Kepler models to ECS on Fargate behind a load balancer (target ``aws``)."""

    def __init__(self, config: Any) -> None:
        self.config = config
        self.env: str = getattr(config, "env", "dev") or "dev"

    # --- settings and clients ------------------------------------------------------------------

    @property
    def settings(self) -> AwsSettings:
        settings: AwsSettings = self.config.section("aws")
        return settings

    def _aws(self, settings: AwsSettings | None = None,
             plan: builtins.list[PlannedRequest] | None = None) -> Aws:
        return Aws(settings or self.settings, env=self.env, plan=plan)

    def _resolve(self, options: Mapping[str, Any]) -> tuple[AwsSettings, dict[str, Any]]:
        """This call's settings (the section with per-deployment overrides) and options."""
        from kepler.api import target_settings

        settings: AwsSettings
        settings, extra = target_settings(self.settings, options, target="aws",
                                          section="aws", known=OPTIONS)
        return settings, extra

    def _not_found(self, aws: Aws, name: str) -> ServiceNotFoundError:
        service_id = aws.settings.service_id(name, self.env)
        return ServiceNotFoundError(
            f"No AWS deployment named {name!r} (ECS services {service_id}-blue/-green in "
            f"cluster {aws.settings.cluster}, {aws.region}, environment {self.env}).",
            hint="'kepler deploy list --target aws' shows the deployments; check --env and "
            "aws.region/cluster.")

    def _slots(self, aws: Aws, name: str) -> builtins.list[services.Slot]:
        found = services.describe(aws, aws.settings.service_id(name, self.env))
        if not found and not aws.dry_run:
            raise self._not_found(aws, name)
        return found

    # --- Deployer -------------------------------------------------------------------------------

    def create(self, name: str, model: str, config: Mapping[str, Any]) -> Deployment:
        """Build (or check) the image, register the task definition, create target group,
        listener, service and autoscaling; return once the service is stable. A deployment
        that exists is refused."""
        self._no_dry_run(config)
        return self._deploy(name, Path(model), dict(config), action="create")

    def update(self, name: str, model: str, config: Mapping[str, Any]) -> Deployment:
        """Roll the service to a new task definition (the circuit breaker rolls a failing one
        back); with ``canary=N`` a second service takes N% of the traffic until
        :meth:`promote`."""
        self._no_dry_run(config)
        return self._deploy(name, Path(model), dict(config), action="update")

    def delete(self, name: str) -> None:
        """The listener, the services (with their autoscaling) and their target groups go;
        the task definitions stay as history."""
        aws = self._aws()
        slots = self._slots(aws, name)
        listener = self._listener(aws, slots)
        if listener:
            aws.call("elbv2", "delete_listener", ListenerArn=listener,
                     doing=f"deleting the listener of {name}")
        for slot in slots:
            services.retire(aws, slot)

    def list(self) -> builtins.list[Deployment]:
        """The deployments Kepler made in this environment (none while aws.region is unset, so
        'kepler deploy list' stays quiet in projects that do not use AWS)."""
        if not self.settings.region:
            return []
        aws = self._aws()
        arns = self._service_arns(aws)
        found: dict[str, builtins.list[services.Slot]] = {}
        for start in range(0, len(arns), 10):
            answer = aws.call("ecs", "describe_services", cluster=aws.settings.cluster,
                              services=arns[start:start + 10], include=["TAGS"],
                              doing="reading services")
            for raw in answer["services"]:
                slot = services.Slot(raw["serviceName"], raw["serviceArn"],
                                     services.tag_dict(raw.get("tags")), raw)
                if slot.tags.get("managed-by") != "kepler" or raw.get("status") != "ACTIVE" \
                        or slot.tags.get("kepler-env") != self.env:
                    continue
                found.setdefault(slot.tags.get("kepler-deployment", slot.name), []).append(slot)
        if not found:
            return []
        lb = network.load_balancer(aws)
        return [self._deployment(aws, slots, lb[1] if lb else None) for slots in found.values()]

    def _service_arns(self, aws: Aws) -> builtins.list[str]:
        from .errors import error_code

        arns: builtins.list[str] = []
        token: str | None = None
        while True:
            params: dict[str, Any] = {"cluster": aws.settings.cluster, "maxResults": 100}
            if token:
                params["nextToken"] = token
            try:
                answer = aws.call("ecs", "list_services", doing="listing services", **params)
            except AwsError as exc:
                if error_code(exc.__cause__) == "ClusterNotFoundException":
                    return []  # not provisioned in this environment: nothing deployed
                raise
            arns += answer["serviceArns"]
            token = answer.get("nextToken")
            if not token:
                return arns

    def get(self, name: str) -> Deployment:
        aws = self._aws()
        slots = self._slots(aws, name)
        lb = network.load_balancer(aws)
        return self._deployment(aws, slots, lb[1] if lb else None)

    def status(self, name: str) -> Deployment:
        aws = self._aws()
        slots = self._slots(aws, name)
        lb = network.load_balancer(aws)
        return self._deployment(aws, slots, lb[1] if lb else None, live=True)

    def predict(self, name: str, data: Any) -> Any:
        """POST the records to the deployment's ``/predict`` through the load balancer."""
        deployment = self.get(name)
        if not str(deployment.url or "").startswith("http"):
            raise DeploymentError(f"AWS deployment {name!r} has no URL.",
                                  hint=f"kepler deploy status {name} --target aws")
        request = urllib.request.Request(  # noqa: S310 - an http(s) URL, checked above
            f"{deployment.url}/predict", data=json.dumps({"instances": list(data)}).encode(),
            headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=300) as response:  # noqa: S310
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode(errors="replace")
            raise DeploymentError(f"Deployment {name!r} refused the input ({exc.code}): "
                                  f"{detail}", hint="GET /docs on the deployment shows the "
                                  "expected input.") from None
        except (urllib.error.URLError, OSError) as exc:
            raise DeploymentError(f"AWS deployment {name!r} did not answer: {exc}",
                                  hint=f"kepler deploy status {name} --target aws") from None

    def logs(self, name: str, lines: int = 100) -> builtins.list[str]:
        """The last ``lines`` lines the deployment's containers wrote (CloudWatch Logs)."""
        import datetime as _dt

        aws = self._aws()
        service_id = aws.settings.service_id(name, self.env)
        events: builtins.list[dict[str, Any]] = []
        params: dict[str, Any] = {"logGroupName": aws.settings.log_group,
                                  "logStreamNamePrefix": f"{service_id}/"}
        for _ in range(20):  # at most 20 pages: the newest lines are what is asked for
            answer = aws.call("logs", "filter_log_events", **params,
                              doing=f"reading the logs of {service_id}")
            events += answer.get("events", [])
            if not answer.get("nextToken"):
                break
            params["nextToken"] = answer["nextToken"]
        events.sort(key=lambda e: e.get("timestamp", 0))
        return [f"{_dt.datetime.fromtimestamp(e['timestamp'] / 1000, _dt.UTC).isoformat()} "
                f"{e.get('message', '').rstrip()}" for e in events[-lines:]]

    def build(self, model: str, out: Path, config: Mapping[str, Any]) -> Path:
        """kepler-serve's build context: what CodeBuild builds for this target."""
        from .image import write_context

        return write_context(Path(model), out, dict(config))

    def plan(self, name: str, model: str, config: Mapping[str, Any] | None = None, *,
             action: str = "create") -> builtins.list[PlannedRequest]:
        """A dry run: every request ``create`` (or ``update``) would send, with its full
        parameters; nothing is sent, not even reads. A canary is planned as the update it has
        to be."""
        options = dict(config or {})
        if action == "create" and options.get("canary") is not None:
            action = "update"
        plan: builtins.list[PlannedRequest] = []
        self._deploy(name, Path(model), options, action=action, plan=plan)
        return plan

    # --- the flow -----------------------------------------------------------------------------

    def _no_dry_run(self, config: Mapping[str, Any]) -> None:
        if config.get("dry_run") in (True, "true", "1", "yes", 1):
            raise DeploymentError(
                "A dry run is not a deployment: nothing would be recorded.",
                hint="kepler deploy MODEL --target aws --dry-run (or kp.deploy.plan(model, "
                "target='aws')) prints every request without sending any.")

    def _deploy(self, name: str, model: Path, options: dict[str, Any], *, action: str,
                plan: builtins.list[PlannedRequest] | None = None) -> Deployment:
        """Settings, the deployment's services now, image, network, task definition; then a
        new stack, a rolling update or a canary. With ``plan`` nothing is sent."""
        from kepler.api import read_manifest

        settings, extra = self._resolve(options)
        aws = self._aws(settings, plan)
        manifest = read_manifest(model)
        service_id = settings.service_id(name, self.env)
        canary = extra.get("canary")
        if canary is not None and action == "create":
            raise DeploymentError("A canary needs a deployment to share traffic with.",
                                  hint=f"Create it first: kepler deploy MODEL --target aws "
                                  f"--name {name}")
        slots = services.describe(aws, service_id)
        if action == "create" and slots:
            raise AwsAlreadyExistsError(
                f"AWS deployment {name!r} exists already (service {slots[0].name}).",
                hint=f"Update it instead (kepler deploy update {name} MODEL), or pick another "
                "name.")
        stable = self._stable_for_update(aws, name, slots) if action == "update" else None
        image = self._image(aws, model, manifest, extra)
        net = network.resolve(aws)
        tags = aws.tags(**specs.model_tags(name, manifest))
        task_def = self._register(aws, service_id, image, manifest, tags)
        if stable is None:
            self._create_stack(aws, name, service_id, task_def, net, tags)
        elif canary is not None:
            self._start_canary(aws, name, stable, task_def, net, tags, canary)
        else:
            self._roll(aws, name, stable, task_def, tags)
        if plan is not None:
            return Deployment(name=name, target=TARGET, model=manifest.name,
                              version=None if manifest.version is None else
                              str(manifest.version), status="dry-run")
        return self._deployment(aws, services.describe(aws, service_id), net.lb_dns)

    def _stable_for_update(self, aws: Aws, name: str,
                           slots: builtins.list[services.Slot]) -> services.Slot:
        """The service serving now; an update during a canary is refused."""
        service_id = aws.settings.service_id(name, self.env)
        if aws.dry_run:
            return services.Slot(f"{service_id}-blue", f"<arn of service {service_id}-blue>",
                                 {"kepler-port": "<its listener port>"},
                                 {"loadBalancers": [{"targetGroupArn": "<its target group>"}]})
        if not slots:
            raise self._not_found(aws, name)
        if any(s.role == "canary" for s in slots):
            raise DeploymentError(f"A canary of {name!r} is running.",
                                  hint=f"Finish it first: kepler deploy promote {name} (or "
                                  f"rollback {name}).")
        return slots[0]

    def _image(self, aws: Aws, model: Path, manifest: Any, extra: Mapping[str, Any]) -> str:
        """``image`` (pushed already; checked when in ECR), else one built from the model."""
        image = extra.get("image")
        if image:
            check_image(aws, str(image))
            return str(image)
        return build_image(aws, model, manifest, options=extra.get("build_options"))

    def _register(self, aws: Aws, service_id: str, image: str, manifest: Any,
                  tags: dict[str, str]) -> str:
        secrets = specs.container_secrets(aws, aws.settings)
        params = specs.task_definition(aws, service_id, image, manifest, secrets=secrets,
                                       tags=tags)
        answer = aws.call("ecs", "register_task_definition", **params,
                          doing=f"registering task definition {service_id}")
        if answer is None:
            return f"{service_id}:<next revision>"
        return str(answer["taskDefinition"]["taskDefinitionArn"])

    def _target_group(self, aws: Aws, service_id: str, slot: str, vpc_id: str,
                      tags: dict[str, str]) -> str:
        name = specs.target_group_name(service_id, slot, aws.settings.cluster)
        answer = aws.call("elbv2", "create_target_group",
                          **specs.target_group(name, vpc_id, tags),
                          doing=f"creating target group {name}")
        if answer is None:
            return f"<arn of target group {name}>"
        return str(answer["TargetGroups"][0]["TargetGroupArn"])

    def _service(self, aws: Aws, name: str, service_name: str, task_def: str, tg: str,
                 net: network.Network, tags: dict[str, str]) -> None:
        """Create the ECS service, its autoscaling, and wait until it is stable."""
        aws.call("ecs", "create_service",
                 **specs.service(aws, service_name, task_def, tg, subnets=net.subnets,
                                 security_groups=net.security_groups, tags=tags),
                 doing=f"creating ECS service {service_name}")
        resource = f"service/{aws.settings.cluster}/{service_name}"
        services.apply_scaling(aws, service_name, specs.scaling(
            aws.settings, resource, specs.resource_label(net.lb_arn, tg)))
        services.wait_stable(aws, service_name, name=name,
                             doing=f"waiting for {service_name} to become stable")

    def _create_stack(self, aws: Aws, name: str, service_id: str, task_def: str,
                      net: network.Network, tags: dict[str, str]) -> None:
        """Target group, the deployment's listener (all traffic to it), service, scaling."""
        port = network.free_port(aws, net.lb_arn)
        tg = self._target_group(aws, service_id, "blue", net.vpc_id, tags)
        aws.call("elbv2", "create_listener", LoadBalancerArn=net.lb_arn, Protocol="HTTP",
                 Port=port, DefaultActions=specs.forward({tg: 100}),
                 Tags=tag_list(tags, "Key", "Value"),
                 doing=f"creating the listener of {name} on port {port}")
        self._service(aws, name, f"{service_id}-blue", task_def, tg, net,
                      {**tags, "kepler-role": "stable", "kepler-port": str(port)})

    def _roll(self, aws: Aws, name: str, stable: services.Slot, task_def: str,
              tags: dict[str, str]) -> None:
        """A rolling update of the serving service to ``task_def`` (circuit breaker on)."""
        aws.call("ecs", "update_service", cluster=aws.settings.cluster, service=stable.name,
                 taskDefinition=task_def,
                 deploymentConfiguration=specs.deployment_configuration(),
                 doing=f"updating ECS service {stable.name}")
        services.wait_stable(aws, stable.name, name=name,
                             doing=f"waiting for {stable.name} to become stable")
        model_tags = {k: v for k, v in tags.items() if k.startswith("kepler-")}
        services.retag(aws, stable, model_tags)

    def _start_canary(self, aws: Aws, name: str, stable: services.Slot, task_def: str,
                      net: network.Network, tags: dict[str, str], percent: int) -> None:
        """A second service in the other slot, then ``percent`` % of the listener's traffic
        to it and the rest to the service serving now. ECS accepts only a target group a load
        balancer forwards to, so the new one joins the listener at weight 0 first."""
        service_id = aws.settings.service_id(name, self.env)
        slot = "green" if stable.name.endswith("-blue") else "blue"
        tg = self._target_group(aws, service_id, slot, net.vpc_id, tags)
        port = stable.tags.get("kepler-port", "")
        self._set_weights(aws, [stable], {stable.target_group: 100, tg: 0},
                          doing=f"attaching the canary's target group to {name}'s listener")
        self._service(aws, name, f"{service_id}-{slot}", task_def, tg, net,
                      {**tags, "kepler-role": "canary", "kepler-port": port})
        self._set_weights(aws, [stable], {stable.target_group: 100 - percent, tg: percent},
                          doing=f"sending {percent}% of {name}'s traffic to the canary")

    def _listener(self, aws: Aws, slots: builtins.list[services.Slot]) -> str | None:
        """The ARN of the deployment's listener (found by the port its services record)."""
        port = next((s.tags.get("kepler-port") for s in slots if s.tags.get("kepler-port")),
                     None)
        if aws.dry_run:
            return f"<arn of the listener on port {port or '?'}>"
        lb = network.load_balancer(aws)
        if lb is None or port is None:
            return None
        answer = aws.call("elbv2", "describe_listeners", LoadBalancerArn=lb[0],
                          doing="listing the load balancer's listeners")
        return next((str(x["ListenerArn"]) for x in answer["Listeners"]
                     if str(x["Port"]) == str(port)), None)

    def _set_weights(self, aws: Aws, slots: builtins.list[services.Slot],
                     weights: dict[str, int], *, doing: str) -> None:
        listener = self._listener(aws, slots)
        if listener is None:
            raise AwsError(f"The listener of service {slots[0].name} is gone.",
                           hint="Delete the deployment and deploy it again.")
        aws.call("elbv2", "modify_listener", ListenerArn=listener,
                 DefaultActions=specs.forward(weights), doing=doing)

    # --- reporting ----------------------------------------------------------------------------

    def _weights(self, aws: Aws, slots: builtins.list[services.Slot]) -> dict[str, int]:
        """Target group ARN -> weight, as the listener forwards now."""
        if not any(s.role == "canary" for s in slots):
            return {s.target_group: 100 for s in slots[:1]}
        listener = self._listener(aws, slots)
        if listener is None:
            return {}
        answer = aws.call("elbv2", "describe_listeners", ListenerArns=[listener],
                          doing="reading the listener's weights")
        actions = answer["Listeners"][0].get("DefaultActions", [])
        groups = actions[0].get("ForwardConfig", {}).get("TargetGroups", []) if actions else []
        return {g["TargetGroupArn"]: int(g.get("Weight", 1)) for g in groups}

    def _deployment(self, aws: Aws, slots: builtins.list[services.Slot], lb_dns: str | None,
                    *, live: bool = False) -> Deployment:
        stable = next((s for s in slots if s.role == "stable"), slots[0])
        state = services.stable(stable.raw)
        status = "running" if state else "failed" if state is False else "starting"
        weights = self._weights(aws, slots)
        traffic = ", ".join(f"{s.name} {weights.get(s.target_group, 0)}%"
                            + (" (canary)" if s.role == "canary" else "") for s in slots)
        port = stable.tags.get("kepler-port")
        details: dict[str, Any] = {
            "region": aws.region, "cluster": aws.settings.cluster, "service": stable.name,
            "env": stable.tags.get("kepler-env"),
            "task_definition": stable.task_definition.rsplit("/", 1)[-1],
            "tasks": f"{stable.raw.get('runningCount', 0)}/{stable.raw.get('desiredCount', 0)}",
            "traffic": traffic,
        }
        canary = next((s for s in slots if s.role == "canary"), None)
        if canary is not None:
            details["canary"] = canary.task_definition.rsplit("/", 1)[-1]
        if live or status == "failed":
            primary = next((d for d in stable.raw.get("deployments", [])
                            if d.get("status") == "PRIMARY"), {})
            events = stable.raw.get("events") or [{}]
            details["reason"] = primary.get("rolloutStateReason") or events[0].get("message")
        version = stable.tags.get("kepler-version")
        return Deployment(name=stable.tags.get("kepler-deployment") or stable.name,
                          target=TARGET, model=stable.tags.get("kepler-model") or "?",
                          version=None if version in (None, "unsaved") else version,
                          url=f"http://{lb_dns}:{port}" if lb_dns and port else None,
                          status=status, details=details)
