"""The ``cloud-run`` deployment target (a :class:`kepler.api.Deployer`).

A deployment NAME is the Cloud Run service ``gcp.service_name`` (``{name}`` by default, e.g.
``{name}-{env}``) in ``gcp.project`` / ``gcp.region``; Cloud Run itself is the record: labels on
the service (``managed-by: kepler``, ``kepler-deployment``, ``kepler-model``, ``kepler-version``,
``kepler-env``) say what it serves, so nothing is kept on this machine.

Options (``-o KEY=VALUE`` on ``kepler deploy``, keywords of ``kp.deploy.to_cloud_run``): any
field of the ``gcp`` section (``min_instances=1``, ``memory=4Gi``, ``invoker=public``...) for this
deployment only, plus ``image`` (an image pushed already: no build), ``canary`` (percent of traffic
for the new revision, updates only), ``port`` (the container's port, default 8080) and
``build_options`` (passed to kepler-serve's build context, e.g. ``{"wheels": "all"}``).

Beyond the protocol: :meth:`CloudRunDeployer.canary`, :meth:`~CloudRunDeployer.promote`,
:meth:`~CloudRunDeployer.rollback`, :meth:`~CloudRunDeployer.revisions` and
:meth:`~CloudRunDeployer.plan` (a dry run: every request, none sent), which core's generic
``kepler deploy --canary / --dry-run / promote / rollback`` call; core keeps the deployment index
and fires ``kepler_after_deploy``, never this module. The configuration (and so the environment,
``kepler --env``) arrives in ``__init__``: nothing here reads ``KEPLER_ENV``.
"""

from __future__ import annotations

import builtins
import concurrent.futures
import json
import logging
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kepler.api import Deployment, DeploymentError

from .clients import Gcp, PlannedRequest, proto_json
from .config import INGRESS, GcpSettings
from .errors import (
    GcpError,
    RevisionNotReadyError,
    ServiceNotFoundError,
    translate,
)
from .image import build_image, check_image, image_tag, slug

log = logging.getLogger(__name__)

TARGET = "cloud-run"
PORT = 8080
HEC_TOKEN_ENV = "KEPLER_SPLUNK__HEC_TOKEN"  # noqa: S105 - a variable name
#: The model server's worker processes (``serve.workers``), set from the instance's CPUs.
WORKERS_ENV = "KEPLER_SERVE__WORKERS"
#: Options besides the ``gcp`` section's fields.
OPTIONS = ("image", "canary", "port", "build_options")
_MEMORY_STEPS_MI = (512, 1024, 2048, 4096, 8192, 16384, 32768)
_LATEST = "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST"
_REVISION = "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION"


def size_memory(artifact_bytes: int) -> str:
    """Memory for a model of ``artifact_bytes``: the server and Python (~400 MiB) plus three
    times the artifact (loaded model, copies while scoring), rounded up to a Cloud Run step."""
    need = 400 + 3 * artifact_bytes / 2**20
    mib = next((step for step in _MEMORY_STEPS_MI if step >= need), _MEMORY_STEPS_MI[-1])
    return f"{mib}Mi" if mib < 1024 else f"{mib // 1024}Gi"


def cpu_for(memory: str) -> str:
    """The fewest CPUs Cloud Run allows with ``memory`` (more than 4 GiB needs 2, 8 GiB 4...)."""
    mib = float(memory[:-2]) * (1024 if memory.endswith("Gi") else 1)
    if mib <= 4096:
        return "1" if mib <= 2048 else "2"
    if mib <= 8192:
        return "2"
    return "4" if mib <= 16384 else "8"


def workers_for(cpu: str, workers: int | str = "auto") -> int:
    """Model-server workers for an instance of ``cpu`` (``'2'``, ``'0.5'``, ``'500m'``): one per
    whole CPU, at least 1, unless ``workers`` names a number."""
    if workers != "auto":
        return int(workers)
    cpus = float(cpu[:-1]) / 1000 if cpu.endswith("m") else float(cpu)
    return max(1, int(cpus))


def _short(name: str) -> str:
    return name.rsplit("/", 1)[-1] if name else ""


class CloudRunDeployer:
    """Deploys Kepler models as Google Cloud Run services (target ``cloud-run``)."""

    def __init__(self, config: Any) -> None:
        self.config = config
        self.env: str = getattr(config, "env", "dev") or "dev"

    # --- settings and clients ------------------------------------------------------------------

    @property
    def settings(self) -> GcpSettings:
        settings: GcpSettings = self.config.section("gcp")
        return settings

    def _resolve(self, options: Mapping[str, Any]) -> tuple[GcpSettings, dict[str, Any]]:
        """This call's settings (the section with per-deployment overrides) and options."""
        from kepler.api import target_settings

        settings: GcpSettings
        settings, extra = target_settings(self.settings, options, target="cloud-run",
                                          section="gcp", known=OPTIONS)
        return settings, extra

    def _gcp(self, settings: GcpSettings | None = None,
             plan: builtins.list[PlannedRequest] | None = None) -> Gcp:
        return Gcp(settings or self.settings, plan=plan)

    def _service_path(self, gcp: Gcp, name: str) -> str:
        return f"{gcp.location}/services/{gcp.settings.service_id(name, self.env)}"

    def _url(self, gcp: Gcp, path: str) -> str:
        return f"{gcp.endpoint('run')}/v2/{path}"

    # --- the Service resource -----------------------------------------------------------------

    def labels(self, name: str, manifest: Any, settings: GcpSettings) -> dict[str, str]:
        version = "unsaved" if manifest.version is None else str(manifest.version)
        labels = {slug(k): slug(v) for k, v in settings.labels.items()}
        labels.update({"managed-by": "kepler", "kepler-deployment": name,
                       "kepler-model": slug(manifest.name), "kepler-version": version,
                       "kepler-env": slug(self.env)})
        return labels

    def container_env(self, settings: GcpSettings,
                      cpu: str | None = None) -> builtins.list[dict[str, Any]]:
        """The container's environment: plain values, the server's workers for ``cpu`` (unless
        ``env_vars`` sets them), and secrets as Secret Manager references
        (``value_source.secret_key_ref``), never as values."""
        env: builtins.list[dict[str, Any]] = [{"name": "KEPLER_ENV", "value": self.env}]
        env += [{"name": k, "value": str(v)} for k, v in sorted(settings.env_vars.items())]
        if cpu is not None and WORKERS_ENV not in settings.env_vars:
            env.append({"name": WORKERS_ENV, "value": str(workers_for(cpu, settings.workers))})
        secret_env = dict(settings.secret_env)
        if settings.hec_token_secret:
            secret_env.setdefault(HEC_TOKEN_ENV, settings.hec_token_secret)
            if "KEPLER_SERVE__LOG_TO_SPLUNK" not in settings.env_vars:
                env.append({"name": "KEPLER_SERVE__LOG_TO_SPLUNK", "value": "true"})
        for key, ref in sorted(secret_env.items()):
            secret, _, version = ref.partition(":")
            env.append({"name": key, "value_source": {"secret_key_ref": {
                "secret": secret, "version": version or "latest"}}})
        return env

    def service_spec(self, name: str, model: Path, manifest: Any, image: str,
                     settings: GcpSettings, options: Mapping[str, Any], *,
                     revision: str, traffic: builtins.list[dict[str, Any]] | None = None) -> Any:
        """The ``run_v2.Service`` for the model: image, port, resources sized from the
        artifact, autoscaling, concurrency, timeout, account, ingress, labels, environment."""
        from google.cloud import run_v2
        from google.protobuf import duration_pb2

        memory = settings.memory if settings.memory != "auto" else \
            size_memory(int(manifest.size_bytes or sum(f.size for f in manifest.files.values())))
        cpu = settings.cpu if settings.cpu != "auto" else cpu_for(memory)
        port = int(options.get("port") or PORT)
        labels = self.labels(name, manifest, settings)
        version = "unsaved" if manifest.version is None else manifest.version
        spec: dict[str, Any] = {
            "description": f"Kepler model {manifest.name} version {version}",
            "labels": labels,
            "ingress": INGRESS[settings.ingress],
            "template": {
                "revision": revision,
                "labels": labels,
                "scaling": {"min_instance_count": settings.min_instances,
                            "max_instance_count": settings.max_instances},
                "max_instance_request_concurrency": settings.concurrency,
                "timeout": duration_pb2.Duration(seconds=settings.timeout),
                "service_account": settings.runtime_account(),
                "containers": [{
                    "name": "model",
                    "image": image,
                    "ports": [{"name": "http1", "container_port": port}],
                    "resources": {"limits": {"cpu": cpu, "memory": memory},
                                  "cpu_idle": settings.cpu_idle, "startup_cpu_boost": True},
                    "env": self.container_env(settings, cpu),
                    "startup_probe": {"http_get": {"path": "/ready"}, "period_seconds": 5,
                                      "timeout_seconds": 4, "failure_threshold": 60},
                    "liveness_probe": {"http_get": {"path": "/health"}, "period_seconds": 30,
                                       "timeout_seconds": 5},
                }],
            },
            "traffic": traffic or [{"type_": _LATEST, "percent": 100}],
        }
        return run_v2.Service(spec)

    def _revision_name(self, service_id: str, manifest: Any) -> str:
        suffix = f"{image_tag(manifest)[:12]}-{secrets.token_hex(3)[:5]}".lower()
        if len(service_id) + 1 + len(suffix) > 63:
            suffix = secrets.token_hex(3)[:5]
        return slug(f"{service_id}-{suffix}", 63)

    # --- Deployer -------------------------------------------------------------------------------

    def create(self, name: str, model: str, config: Mapping[str, Any]) -> Deployment:
        """Build (or check) the image and create the Cloud Run service; return it once its
        first revision is ready. An existing service is refused (409)."""
        self._no_dry_run(config)
        return self._deploy(name, Path(model), dict(config), action="create")

    def update(self, name: str, model: str, config: Mapping[str, Any]) -> Deployment:
        """A new revision of the service with the model (or new options); with ``canary=N`` it
        takes N% of the traffic and the rest stays where it was, until :meth:`promote`."""
        self._no_dry_run(config)
        return self._deploy(name, Path(model), dict(config), action="update")

    def delete(self, name: str) -> None:
        gcp = self._gcp()
        path = self._service_path(gcp, name)
        operation = self._call(gcp, "DELETE", path, None,
                               lambda: gcp.services().delete_service(name=path),
                               doing=f"deleting service {_short(path)}", name=name)
        self._wait(gcp, operation, doing=f"deleting service {_short(path)}")

    def list(self) -> builtins.list[Deployment]:
        """The services Kepler deployed in this environment (none while gcp.project is unset,
        so 'kepler deploy list' stays quiet in projects that do not use Cloud Run)."""
        gcp = self._gcp()
        if not gcp.settings.project:
            return []
        parent = gcp.location
        pager = gcp.send("run", "GET", self._url(gcp, f"{parent}/services"), None,
                         lambda: builtins.list(gcp.services().list_services(parent=parent)),
                         doing=f"listing services in {parent}")
        found = []
        for service in pager or []:
            labels = dict(service.labels)
            if labels.get("managed-by") != "kepler" or labels.get("kepler-env",
                                                                  self.env) != slug(self.env):
                continue
            found.append(self._deployment(gcp, service))
        return found

    def get(self, name: str) -> Deployment:
        gcp = self._gcp()
        return self._deployment(gcp, self._get_service(gcp, name))

    def status(self, name: str) -> Deployment:
        gcp = self._gcp()
        return self._deployment(gcp, self._get_service(gcp, name), live=True)

    def predict(self, name: str, data: Any) -> Any:
        """POST the records to the service's ``/predict``, with an ID token unless the service
        is public."""
        import requests

        gcp = self._gcp()
        service = self._get_service(gcp, name)
        if not service.uri:
            raise DeploymentError(f"Cloud Run service for {name!r} has no URL yet.",
                                  hint=f"kepler deploy status {name} --target cloud-run")
        headers = {"Content-Type": "application/json"}
        if gcp.settings.invoker == "authenticated" and not gcp.settings.anonymous:
            headers["Authorization"] = f"Bearer {self._id_token(service.uri)}"
        try:
            response = requests.post(f"{service.uri}/predict", json={"instances": list(data)},
                                     headers=headers, timeout=300)
        except requests.RequestException as exc:
            raise DeploymentError(f"Cloud Run deployment {name!r} did not answer: {exc}",
                                  hint=f"kepler deploy status {name}") from exc
        try:
            answer = response.json()
        except ValueError:
            answer = {"detail": response.text[:200]}
        if response.status_code in (401, 403):
            raise GcpError(f"Cloud Run refused the call to {name!r} ({response.status_code}).",
                           hint="The caller needs roles/run.invoker on the service, or deploy "
                           "with invoker=public.")
        if response.status_code != 200:
            detail = answer.get("detail") if isinstance(answer, dict) else answer
            raise DeploymentError(f"Deployment {name!r} refused the input "
                                  f"({response.status_code}): {detail}",
                                  hint="GET /docs on the deployment shows the expected input.")
        return answer

    def logs(self, name: str, lines: int = 100) -> builtins.list[str]:
        """The last ``lines`` log lines of the service's revisions (Cloud Logging)."""
        gcp = self._gcp()
        service_id = gcp.settings.service_id(name, self.env)
        body = {"resourceNames": [f"projects/{gcp.project}"], "orderBy": "timestamp desc",
                "pageSize": int(lines),
                "filter": f'resource.type="cloud_run_revision" AND '
                          f'resource.labels.service_name="{service_id}" AND '
                          f'resource.labels.location="{gcp.settings.region}"'}
        url = f"{gcp.endpoint('logging')}/v2/entries:list"
        answer = gcp.send("logging", "POST", url, body, lambda: gcp.http("POST", url, body),
                          doing=f"reading the logs of {service_id}") or {}
        out = []
        for entry in reversed(answer.get("entries", [])):
            text = entry.get("textPayload")
            if text is None:
                payload = entry.get("jsonPayload") or entry.get("protoPayload") or {}
                text = payload.get("message") if isinstance(payload, dict) and \
                    "message" in payload else json.dumps(payload, sort_keys=True)
            out.append(f"{entry.get('timestamp', '')} {entry.get('severity', 'DEFAULT')} "
                       f"{text}".strip())
        return out[-lines:]

    def build(self, model: str, out: Path, config: Mapping[str, Any]) -> Path:
        """kepler-serve's build context: what Cloud Build builds for this target."""
        from .image import write_context

        return write_context(Path(model), out, dict(config))

    # --- beyond the protocol: rollout ---------------------------------------------------------

    def canary(self, name: str, model: str, percent: int,
               config: Mapping[str, Any] | None = None) -> Deployment:
        """Deploy ``model`` as a new revision taking ``percent`` % of the traffic; the rest
        stays on the revision serving now. :meth:`promote` gives it all, :meth:`rollback`
        none."""
        return self.update(name, model, {**dict(config or {}), "canary": percent})

    def promote(self, name: str, revision: str | None = None) -> Deployment:
        """Send all traffic to ``revision`` (default: the canary, else the latest ready one)."""
        gcp = self._gcp()
        service = self._get_service(gcp, name)
        latest = _short(service.latest_ready_revision)
        target = revision
        if target is None:
            tagged = [t.revision for t in service.traffic if t.tag == "canary" and t.revision]
            target = tagged[0] if tagged else latest
        if not target:
            raise DeploymentError(f"Service for {name!r} has no ready revision to promote.",
                                  hint=f"kepler deploy status {name} --target cloud-run")
        serving = self._check_revision(gcp, service, target)
        traffic = [{"type_": _LATEST, "percent": 100}] if target == latest else \
            [{"type_": _REVISION, "revision": target, "percent": 100}]
        return self._set_traffic(gcp, name, service, traffic, f"promoting {target}",
                                 serving=serving)

    def rollback(self, name: str, revision: str | None = None) -> Deployment:
        """Return all traffic to ``revision`` (default: the ready revision created before the
        one serving most traffic now; during a canary, the revision the canary shares with)."""
        gcp = self._gcp()
        service = self._get_service(gcp, name)
        history = self.revisions(name, service=service, gcp=gcp)
        current, revision = self._rollback_choice(name, service, history, revision)
        serving = self._check_revision(gcp, service, revision, history=history)
        traffic = [{"type_": _REVISION, "revision": revision, "percent": 100}]
        deployment = self._set_traffic(gcp, name, service, traffic, f"rolling back to {revision}",
                                       serving=serving)
        details = {**deployment.details, "rolled_back_from": current}
        return Deployment(name=deployment.name, target=TARGET, model=deployment.model,
                          version=deployment.version, url=deployment.url,
                          status=deployment.status, details=details)

    def _rollback_choice(self, name: str, service: Any,
                         history: builtins.list[dict[str, Any]], revision: str | None
                         ) -> tuple[str, str]:
        """(the revision rolled back from, the one rolled back to)."""
        shares = self._traffic(service)
        current = max(shares, key=lambda t: t[1], default=("", 0, ""))[0]
        canaries = [rev for rev, pct, tag in shares if tag == "canary" and pct]
        stable = [t for t in shares if t[0] not in canaries and t[1]]
        if revision is not None:
            return current, revision
        if canaries and stable:  # a canary in progress: drop it
            return canaries[0], max(stable, key=lambda t: t[1])[0]
        names = [r["name"] for r in history]
        after = names[names.index(current) + 1:] if current in names else names
        previous = [r for r in history if r["name"] in after and r["ready"]]
        if not previous:
            raise DeploymentError(
                f"Deployment {name!r} has no ready revision before {current or 'now'} to "
                "roll back to.",
                hint="'kepler gcp revisions NAME' lists them; deploy an older model "
                "version instead: kepler deploy update NAME MODEL:VERSION")
        return current, str(previous[0]["name"])

    def revisions(self, name: str, *, service: Any = None, gcp: Gcp | None = None
                  ) -> builtins.list[dict[str, Any]]:
        """The service's revisions, newest first: name, model, version, ready, traffic %."""
        gcp = gcp or self._gcp()
        service = service if service is not None else self._get_service(gcp, name)
        parent = service.name
        found = gcp.send("run", "GET", self._url(gcp, f"{parent}/revisions"), None,
                         lambda: builtins.list(gcp.revisions().list_revisions(parent=parent)),
                         doing=f"listing the revisions of {_short(parent)}") or []
        shares: dict[str, int] = {}
        for revision_name, percent, _ in self._traffic(service):
            shares[revision_name] = shares.get(revision_name, 0) + percent
        found.sort(key=lambda r: (r.create_time.timestamp() if r.create_time else 0),
                   reverse=True)
        out = []
        for rev in found:
            short = _short(rev.name)
            labels = dict(rev.labels)
            out.append({"name": short, "model": labels.get("kepler-model"),
                        "version": labels.get("kepler-version"), "ready": _ready(rev),
                        "traffic": shares.get(short, 0),
                        "created": rev.create_time.isoformat() if rev.create_time else None,
                        "image": rev.containers[0].image if rev.containers else None})
        return out

    def plan(self, name: str, model: str, config: Mapping[str, Any] | None = None, *,
             action: str = "create") -> builtins.list[PlannedRequest]:
        """A dry run: every request ``create`` (or ``update``) would send, with the full
        Service spec; nothing is sent, not even reads.

        A canary always updates the deployment serving now, so a planned create with
        ``canary`` is planned as the update it would have to be
        (``kepler deploy MODEL --target cloud-run --canary 10 --dry-run``)."""
        options = dict(config or {})
        if action == "create" and options.get("canary") is not None:
            action = "update"
        plan: builtins.list[PlannedRequest] = []
        self._deploy(name, Path(model), options, action=action, plan=plan)
        return plan

    # --- the flow -----------------------------------------------------------------------------

    def _no_dry_run(self, config: Mapping[str, Any]) -> None:
        value = config.get("dry_run")
        if value in (True, "true", "1", "yes", 1):
            raise DeploymentError(
                "A dry run is not a deployment: nothing would be recorded.",
                hint="kepler deploy MODEL --target cloud-run --dry-run (or kp.deploy.plan(model, "
                "target='cloud-run')) prints every request without sending any.")

    def _deploy(self, name: str, model: Path, options: dict[str, Any], *, action: str,
                plan: builtins.list[PlannedRequest] | None = None) -> Deployment:
        """The deployment flow: settings, image, the Service spec, create or patch, wait for
        the revision, who may call it. With ``plan`` every request is recorded, none sent."""
        from google.cloud import run_v2
        from kepler.api import read_manifest

        settings, extra = self._resolve(options)
        gcp = self._gcp(settings, plan)
        manifest = read_manifest(model)
        service_id = settings.service_id(name, self.env)
        path = f"{gcp.location}/services/{service_id}"
        canary = extra.get("canary")
        if canary is not None and action == "create":
            raise DeploymentError("A canary needs a deployment to share traffic with.",
                                  hint=f"Create it first: kepler deploy MODEL --target "
                                  f"cloud-run --name {name}")
        current: Any = None
        if action == "update":
            current = self._get_service(gcp, name, note="the revision serving now (for the "
                                        "canary's traffic split)" if canary else "")
        image = self._image(gcp, model, manifest, extra)
        revision = self._revision_name(service_id, manifest)
        spec = self.service_spec(name, model, manifest, image, settings, extra,
                                 revision=revision,
                                 traffic=self._canary_traffic(current, revision, canary))
        operation = self._send_service(gcp, name, spec, current, action=action)
        service = self._wait(gcp, operation, doing=f"deploying {service_id}",
                             revision=f"{path}/revisions/{revision}", name=name)
        self._apply_invoker(gcp, path, settings)
        if plan is not None:
            return Deployment(name=name, target=TARGET, model=manifest.name,
                              version=None if manifest.version is None else
                              str(manifest.version), status="dry-run")
        assert isinstance(service, run_v2.Service)
        return self._deployment(gcp, service)

    def _image(self, gcp: Gcp, model: Path, manifest: Any, extra: Mapping[str, Any]) -> str:
        """The image to run: ``image`` (pushed already; checked to exist), else one built
        from the model now."""
        image = extra.get("image")
        if image:
            check_image(gcp, str(image))
            return str(image)
        return build_image(gcp, model, manifest, options=extra.get("build_options"))

    def _canary_traffic(self, current: Any, revision: str, canary: int | None
                        ) -> builtins.list[dict[str, Any]] | None:
        """The traffic split of a canary: ``canary`` % to the new revision (tagged
        ``canary``), the rest to the revision serving most now (None: all to the latest)."""
        if canary is None:
            return None
        serving = max(self._traffic(current), key=lambda t: t[1])[0] if current is not None \
            else "<the revision serving now>"
        return [{"type_": _REVISION, "revision": revision, "percent": canary, "tag": "canary"},
                {"type_": _REVISION, "revision": serving, "percent": 100 - canary}]

    def _send_service(self, gcp: Gcp, name: str, spec: Any, current: Any, *,
                      action: str) -> Any:
        """Create the service, or patch the one serving now (``current``, whose etag guards
        against a concurrent change); returns the long-running operation."""
        service_id = gcp.settings.service_id(name, self.env)
        if action == "create":
            url = self._url(gcp, f"{gcp.location}/services?serviceId={service_id}")
            return gcp.send(
                "run", "POST", url, proto_json(spec),
                lambda: gcp.services().create_service(parent=gcp.location, service=spec,
                                                      service_id=service_id),
                doing=f"creating Cloud Run service {service_id}",
                note="then GET …/operations/{id} until done")
        path = f"{gcp.location}/services/{service_id}"
        spec.name = path
        if current is not None:
            spec.etag = current.etag
        return self._call(gcp, "PATCH", path, proto_json(spec),
                          lambda: gcp.services().update_service(service=spec),
                          doing=f"updating Cloud Run service {service_id}", name=name,
                          note="then GET …/operations/{id} until done")

    def _call(self, gcp: Gcp, method: str, path: str, body: Any, call: Any, *, doing: str,
              name: str, note: str = "") -> Any:
        """``gcp.send`` on a service, with a missing service reported as the deployment."""
        from google.api_core import exceptions as gexc

        def guarded() -> Any:
            try:
                return call()
            except gexc.NotFound:
                raise self._not_found(gcp, name) from None

        return gcp.send("run", method, self._url(gcp, path), body, guarded, doing=doing,
                        note=note)

    def _not_found(self, gcp: Gcp, name: str) -> ServiceNotFoundError:
        service_id = gcp.settings.service_id(name, self.env)
        return ServiceNotFoundError(
            f"No Cloud Run deployment named {name!r} (service {service_id} in "
            f"{gcp.settings.project}/{gcp.settings.region}, environment {self.env}).",
            hint="'kepler deploy list --target cloud-run' shows the deployments; check --env "
            "and gcp.project/region.")

    def _get_service(self, gcp: Gcp, name: str, note: str = "") -> Any:
        path = self._service_path(gcp, name)
        return self._call(gcp, "GET", path, None,
                          lambda: gcp.services().get_service(name=path),
                          doing=f"reading service {_short(path)}", name=name, note=note)

    def _wait(self, gcp: Gcp, operation: Any, *, doing: str, revision: str | None = None,
              name: str | None = None) -> Any:
        """Poll a long-running operation until done (``gcp.ready_timeout``); a revision that
        fails or never becomes ready is reported with the container's reason."""
        from google.api_core import exceptions as gexc

        if operation is None:  # a dry run
            return None
        timeout = gcp.settings.ready_timeout
        try:
            return operation.result(timeout=timeout, polling=gcp.polling(timeout))
        except concurrent.futures.TimeoutError:
            if revision is None:
                raise GcpError(f"Google Cloud did not finish {doing} within {timeout:.0f} s.",
                               hint="Raise gcp.ready_timeout, or look in the console.") from None
            raise self._not_ready(gcp, revision, f"did not become ready within {timeout:.0f} s",
                                  name) from None
        except gexc.GoogleAPICallError as exc:
            if revision is not None and isinstance(exc, gexc.FailedPrecondition | gexc.Aborted
                                                   | gexc.Unknown | gexc.InternalServerError):
                raise self._not_ready(gcp, revision, "failed to become ready", name,
                                      fallback=exc.message) from exc
            raise translate(exc, doing) from exc

    def _not_ready(self, gcp: Gcp, revision: str, what: str, name: str | None, *,
                   fallback: str | None = None) -> RevisionNotReadyError:
        from google.api_core import exceptions as gexc

        reason = fallback or ""
        try:
            rev = gcp.revisions().get_revision(name=revision)
            messages = [c.message for c in rev.conditions
                        if c.message and c.state.name != "CONDITION_SUCCEEDED"]
            if messages:
                reason = "; ".join(dict.fromkeys(messages))
        except gexc.GoogleAPICallError as exc:
            log.debug("could not read revision %s: %s", revision, exc)
        short = _short(revision)
        port_hint = " The container must listen on $PORT (8080);" if "PORT" in reason else ""
        image_hint = " Check the image name and tag;" if "image" in reason.lower() and \
            "not found" in reason.lower() else ""
        logs = f" 'kepler deploy logs {name} --target cloud-run' shows its output;" \
            if name else ""
        return RevisionNotReadyError(
            f"Revision {short} {what}" + (f": {reason}" if reason else "."),
            hint=(port_hint + image_hint + logs + " traffic stays on the revision that served "
                  "before.").strip(),
            revision=short, reason=reason or None)

    def _apply_invoker(self, gcp: Gcp, path: str, settings: GcpSettings) -> None:
        """Grant (public) or withdraw (authenticated) roles/run.invoker for allUsers."""
        from google.iam.v1 import iam_policy_pb2, policy_pb2

        url = self._url(gcp, path)
        if gcp.dry_run:
            if settings.invoker == "public":
                body = {"policy": {"bindings": [{"role": "roles/run.invoker",
                                                 "members": ["allUsers"]}]}}
                gcp.send("run", "POST", f"{url}:setIamPolicy", body, lambda: None,
                         doing="", note="after reading the policy (GET :getIamPolicy); "
                         "adds allUsers as invoker")
            return
        policy = gcp.send("run", "GET", f"{url}:getIamPolicy", None,
                          lambda: gcp.services().get_iam_policy(
                              request=iam_policy_pb2.GetIamPolicyRequest(resource=path)),
                          doing="reading the service's IAM policy")
        public = any(b.role == "roles/run.invoker" and "allUsers" in b.members
                     for b in policy.bindings)
        want = settings.invoker == "public"
        if public == want:
            return
        new = policy_pb2.Policy()
        new.CopyFrom(policy)
        if want:
            new.bindings.add(role="roles/run.invoker", members=["allUsers"])
        else:
            for binding in new.bindings:
                if binding.role == "roles/run.invoker" and "allUsers" in binding.members:
                    binding.members.remove("allUsers")
        gcp.send("run", "POST", f"{url}:setIamPolicy", None,
                 lambda: gcp.services().set_iam_policy(
                     request=iam_policy_pb2.SetIamPolicyRequest(resource=path, policy=new)),
                 doing="setting who may call the service (gcp.invoker)")

    def _set_traffic(self, gcp: Gcp, name: str, service: Any,
                     traffic: builtins.list[dict[str, Any]], doing: str, *,
                     serving: Mapping[str, Any]) -> Deployment:
        """Move the traffic, and relabel the service with the model and version of
        ``serving`` (the revision that now takes it all): Cloud Run is the record, so
        ``kepler deploy list`` and ``status`` say what serves after a promote or rollback.
        Service labels are metadata: changing them makes no new revision."""
        from google.cloud import run_v2

        spec = run_v2.Service.deserialize(run_v2.Service.serialize(service))
        del spec.traffic[:]
        for entry in traffic:
            spec.traffic.append(run_v2.TrafficTarget(entry))
        for label, key in (("kepler-model", "model"), ("kepler-version", "version")):
            if serving.get(key):
                spec.labels[label] = str(serving[key])
        operation = self._call(gcp, "PATCH", spec.name, proto_json(spec),
                               lambda: gcp.services().update_service(service=spec),
                               doing=doing, name=name)
        updated = self._wait(gcp, operation, doing=doing)
        return self._deployment(gcp, updated)

    def _check_revision(self, gcp: Gcp, service: Any, revision: str, *,
                        history: builtins.list[dict[str, Any]] | None = None
                        ) -> dict[str, Any]:
        """The record of ``revision`` (see :meth:`revisions`), which must exist and be ready
        to take traffic."""
        if history is None:
            history = self.revisions("", service=service, gcp=gcp)
        known = {r["name"]: r for r in history}
        if revision not in known:
            raise DeploymentError(f"Service {_short(service.name)} has no revision "
                                  f"{revision!r}.",
                                  hint="Revisions: " + (", ".join(known) or "none"))
        if not known[revision]["ready"]:
            raise DeploymentError(f"Revision {revision} is not ready; it cannot take traffic.",
                                  hint="Pick a ready revision ('kepler gcp revisions NAME').")
        return known[revision]

    # --- reporting ----------------------------------------------------------------------------

    @staticmethod
    def _traffic(service: Any) -> builtins.list[tuple[str, int, str]]:
        """(revision, percent, tag) of the traffic as Cloud Run applies it."""
        latest = _short(service.latest_ready_revision)
        entries = service.traffic_statuses or service.traffic
        out = []
        for entry in entries:
            revision = entry.revision or (latest if entry.type_.name.endswith("LATEST") else "")
            out.append((_short(revision), int(entry.percent), entry.tag))
        return out

    def _deployment(self, gcp: Gcp, service: Any, *, live: bool = False) -> Deployment:
        labels = dict(service.labels)
        condition = service.terminal_condition
        state = condition.state.name if condition else ""
        if service.reconciling or state in ("CONDITION_PENDING", "CONDITION_RECONCILING"):
            status = "starting"
        elif state == "CONDITION_SUCCEEDED":
            status = "running"
        elif state == "CONDITION_FAILED":
            status = "failed"
        else:
            status = "unknown"
        containers = service.template.containers
        details: dict[str, Any] = {
            "project": gcp.settings.project, "region": gcp.settings.region,
            "service": _short(service.name), "env": labels.get("kepler-env"),
            "revision": _short(service.latest_ready_revision),
            "image": containers[0].image if containers else None,
            "traffic": ", ".join(f"{rev or '?'} {pct}%" + (f" ({tag})" if tag else "")
                                 for rev, pct, tag in self._traffic(service) if pct or tag),
        }
        if live or status == "failed":
            details["reason"] = condition.message if condition and state != \
                "CONDITION_SUCCEEDED" else None
            details["latest_created"] = _short(service.latest_created_revision)
        version = labels.get("kepler-version")
        return Deployment(name=labels.get("kepler-deployment") or _short(service.name),
                          target=TARGET, model=labels.get("kepler-model") or "?",
                          version=None if version in (None, "unsaved") else version,
                          url=service.uri or None, status=status, details=details)

    def _id_token(self, audience: str) -> str:
        try:
            from google.auth.transport.requests import Request
            from google.oauth2 import id_token

            return str(id_token.fetch_id_token(Request(), audience))
        except Exception as exc:
            raise GcpError(f"Could not get an ID token to call {audience}: {exc}",
                           hint="Use a service-account key (gcp.credentials) or run where a "
                           "metadata server answers; or deploy with invoker=public.") from None


def _ready(revision: Any) -> bool:
    return any(c.type_ == "Ready" and c.state.name == "CONDITION_SUCCEEDED"
               for c in revision.conditions)
