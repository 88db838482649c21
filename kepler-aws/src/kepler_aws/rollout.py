"""Canary, promote, rollback and the task-definition history of an ``aws`` deployment.

- a canary runs the new task definition as a second ECS service (the other of blue/green,
  behind its own target group) and takes N% through the weights of the deployment's listener;
- ``promote`` gives the canary all the traffic, makes it the stable service and retires the
  old one (service, autoscaling, target group);
- ``rollback`` during a canary returns all traffic to the stable service and retires the
  canary; otherwise it rolls the service back to the task definition before the one serving
  (or to ``revision``: ``family:N`` or ``N``), and the tags say which model and version serve.
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any

from kepler.api import Deployment, DeploymentError

from . import network, services
from .clients import Aws, tag_dict

if TYPE_CHECKING:
    from .deployer import AwsDeployer as _Base
else:
    _Base = object


class RolloutMixin(_Base):
    """The rollout methods of :class:`kepler_aws.deployer.AwsDeployer`."""

    def canary(self, name: str, model: str, percent: int,
               config: dict[str, Any] | None = None) -> Deployment:
        """Deploy ``model`` beside the serving service, taking ``percent`` % of the traffic."""
        return self.update(name, model, {**dict(config or {}), "canary": percent})

    def promote(self, name: str, revision: str | None = None) -> Deployment:
        """All traffic to the canary (which becomes the stable service); the old service is
        retired. Without a canary, ``revision`` (a task definition) is rolled out instead."""
        aws = self._aws()
        slots = self._slots(aws, name)
        canary = next((s for s in slots if s.role == "canary"), None)
        if canary is None:
            if revision is None:
                raise DeploymentError(f"Deployment {name!r} has no canary to promote.",
                                      hint=f"Start one: kepler deploy update {name} MODEL "
                                      "--target aws --canary 10")
            return self._roll_back_to(aws, name, slots[0], revision)
        if revision is not None and _short(revision) not in (
                _short(canary.task_definition), canary.name):
            raise DeploymentError(f"Revision {revision!r} is not the canary of {name!r} "
                                  f"({_short(canary.task_definition)}).",
                                  hint=f"'kepler aws revisions {name}' lists them.")
        stable = next(s for s in slots if s.role != "canary")
        self._set_weights(aws, slots, {canary.target_group: 100},
                          doing=f"promoting the canary of {name}")
        services.retag(aws, canary, {"kepler-role": "stable"})
        services.retire(aws, stable)
        return self._report(aws, name)

    def rollback(self, name: str, revision: str | None = None) -> Deployment:
        """All traffic back: to the stable service during a canary (the canary is retired),
        else to the task definition before the one serving (or ``revision``)."""
        aws = self._aws()
        slots = self._slots(aws, name)
        canary = next((s for s in slots if s.role == "canary"), None)
        stable = next(s for s in slots if s.role != "canary")
        if canary is not None and revision is None:
            self._set_weights(aws, slots, {stable.target_group: 100},
                              doing=f"returning {name}'s traffic to {stable.name}")
            services.retire(aws, canary)
            return self._report(aws, name, rolled_back_from=_short(canary.task_definition))
        if canary is not None:
            raise DeploymentError(f"A canary of {name!r} is running.",
                                  hint=f"Roll it back first: kepler deploy rollback {name}")
        return self._roll_back_to(aws, name, stable, revision)

    def _roll_back_to(self, aws: Aws, name: str, stable: services.Slot,
                      revision: str | None) -> Deployment:
        current = _short(stable.task_definition)
        history = self.revisions(name, aws=aws)
        names = [r["name"] for r in history]
        if revision is None:
            after = names[names.index(current) + 1:] if current in names else []
            if not after:
                raise DeploymentError(
                    f"Deployment {name!r} has no task definition before {current} to roll "
                    "back to.", hint="Deploy an older model version instead: kepler deploy "
                    f"update {name} MODEL:VERSION --target aws")
            target = after[0]
        else:
            family = current.split(":", 1)[0]
            target = revision if ":" in revision else f"{family}:{revision}"
            if target not in names:
                raise DeploymentError(f"Deployment {name!r} has no task definition {target}.",
                                      hint="Task definitions: " + (", ".join(names) or "none"))
        record = history[names.index(target)]
        tags = {"kepler-model": record["model"] or "?", "kepler-version": record["version"]
                or "unsaved"}
        self._roll(aws, name, stable, target, tags)
        return self._report(aws, name, rolled_back_from=current)

    def _report(self, aws: Aws, name: str, **extra: Any) -> Deployment:
        slots = self._slots(aws, name)
        lb = network.load_balancer(aws)
        deployment = self._deployment(aws, slots, lb[1] if lb else None)
        if extra:
            deployment = Deployment(name=deployment.name, target=deployment.target,
                                    model=deployment.model, version=deployment.version,
                                    url=deployment.url, status=deployment.status,
                                    details={**deployment.details, **extra})
        return deployment

    def revisions(self, name: str, *, aws: Aws | None = None) -> builtins.list[dict[str, Any]]:
        """The deployment's task definitions, newest first: name (``family:N``), model,
        version, image, share of traffic, registered."""
        aws = aws or self._aws()
        slots = self._slots(aws, name)
        family = aws.settings.service_id(name, self.env)
        arns = aws.call("ecs", "list_task_definitions", familyPrefix=family, sort="DESC",
                        maxResults=20, doing=f"listing the task definitions of {family}")
        weights = self._weights(aws, slots)
        shares: dict[str, int] = {}
        for slot in slots:
            short = _short(slot.task_definition)
            shares[short] = shares.get(short, 0) + weights.get(slot.target_group, 0)
        out = []
        newest_first = sorted(arns["taskDefinitionArns"], reverse=True,
                              key=lambda arn: int(arn.rsplit(":", 1)[-1]))
        for arn in newest_first:
            answer = aws.call("ecs", "describe_task_definition", taskDefinition=arn,
                              include=["TAGS"], doing=f"reading task definition {_short(arn)}")
            tags = tag_dict(answer.get("tags"))
            definition = answer["taskDefinition"]
            if definition.get("family") != family:
                continue  # familyPrefix also matches longer family names
            registered = definition.get("registeredAt")
            out.append({"name": _short(arn), "model": tags.get("kepler-model"),
                        "version": tags.get("kepler-version"),
                        "image": definition["containerDefinitions"][0].get("image"),
                        "traffic": shares.get(_short(arn), 0),
                        "created": registered.isoformat() if registered else None})
        return out


def _short(arn: str) -> str:
    """``arn:...:task-definition/family:3`` -> ``family:3``."""
    return arn.rsplit("/", 1)[-1]

