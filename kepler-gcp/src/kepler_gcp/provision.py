"""``kepler gcp provision``: what deployments need, made to exist, idempotently.

For the environment in force (``--env``):

1. the Artifact Registry repository ``gcp.repository`` (Docker, in ``gcp.region``);
2. the staging bucket for Cloud Build sources (``gcp.staging_bucket``);
3. the runtime service account (``gcp.service_account``, default ``kepler-runtime``);
4. the Secret Manager secrets the service reads (``gcp.hec_token_secret`` and every
   ``gcp.secret_env`` value), each readable by the runtime account; a secret created here gets
   its first version from Kepler's secret store when a secret of the same name is there
   (``kepler secrets set kepler-hec-token``).

Each resource is read first and created only when missing; a second run changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .clients import Gcp, PlannedRequest
from .config import GcpSettings

SECRET_ACCESSOR = "roles/secretmanager.secretAccessor"  # noqa: S105 - a role name


@dataclass(frozen=True)
class Step:
    """One resource: what it is and what provisioning did (exists, created, would create)."""

    resource: str
    name: str
    action: str
    detail: str = ""


def _exists(get: Callable[[], Any]) -> bool:
    from google.api_core import exceptions as gexc

    try:
        get()
    except gexc.NotFound:
        return False
    return True


class Provisioner:
    """Runs the steps; in a dry run (``plan`` not None) records every request instead."""

    def __init__(self, settings: GcpSettings, *, dry_run: bool = False,
                 local_secret: Callable[[str], str | None] | None = None) -> None:
        self.plan: list[PlannedRequest] | None = [] if dry_run else None
        self.gcp = Gcp(settings, plan=self.plan)
        self.settings = settings
        self.local_secret = local_secret or _local_secret
        self.steps: list[Step] = []

    def run(self) -> list[Step]:
        self.gcp.project  # noqa: B018 - refuse early without a project
        self.repository()
        self.bucket()
        self.service_account()
        for secret in self.secret_names():
            self.secret(secret)
        return self.steps

    def _check(self, api: str, url: str, get: Callable[[], Any], doing: str) -> bool | None:
        """Whether the resource exists (None in a dry run: not asked)."""
        result = self.gcp.send(api, "GET", url, None, lambda: _exists(get), doing=doing,
                               note="create below only when this answers 404")
        return None if self.gcp.dry_run else bool(result)

    def _record(self, resource: str, name: str, exists: bool | None, detail: str = "") -> None:
        action = "would create if missing" if exists is None else \
            "exists" if exists else "created"
        self.steps.append(Step(resource, name, action, detail))

    # --- resources ----------------------------------------------------------------------------

    def repository(self) -> None:
        gcp, s = self.gcp, self.settings
        name = f"{gcp.location}/repositories/{s.repository}"
        url = f"{gcp.endpoint('artifact')}/v1/{name}"
        exists = self._check("artifactregistry", url,
                             lambda: gcp.artifacts().get_repository(name=name),
                             f"reading Artifact Registry repository {s.repository}")
        if not exists:
            body = {"format": "DOCKER", "description": "Kepler model images",
                    "labels": {"managed-by": "kepler"}}

            def create() -> Any:
                from google.cloud import artifactregistry_v1

                operation = gcp.artifacts().create_repository(
                    parent=gcp.location, repository_id=s.repository,
                    repository=artifactregistry_v1.Repository(
                        format_=artifactregistry_v1.Repository.Format.DOCKER,
                        description=body["description"], labels=body["labels"]))
                return operation.result(timeout=s.ready_timeout,
                                        polling=gcp.polling(s.ready_timeout))

            gcp.send("artifactregistry", "POST",
                     f"{gcp.endpoint('artifact')}/v1/{gcp.location}/repositories"
                     f"?repositoryId={s.repository}", body, create,
                     doing=f"creating Artifact Registry repository {s.repository}")
        self._record("Artifact Registry repository", s.image_base(), exists)

    def bucket(self) -> None:
        gcp, s = self.gcp, self.settings
        bucket = s.bucket()
        url = f"{gcp.endpoint('storage')}/storage/v1/b/{bucket}"
        exists = self._check("storage", url, lambda: gcp.storage().get_bucket(bucket),
                             f"reading bucket {bucket}")
        if not exists:
            body = {"name": bucket, "location": s.region, "labels": {"managed-by": "kepler"}}

            def create() -> Any:
                new = gcp.storage().bucket(bucket)
                new.labels = body["labels"]
                return gcp.storage().create_bucket(new, location=s.region)

            gcp.send("storage", "POST",
                     f"{gcp.endpoint('storage')}/storage/v1/b?project={gcp.project}", body,
                     create, doing=f"creating bucket {bucket}")
        self._record("Cloud Storage bucket (build sources)", f"gs://{bucket}", exists)

    def service_account(self) -> None:
        gcp, s = self.gcp, self.settings
        email = s.runtime_account()
        base = f"{gcp.endpoint('iam')}/v1/projects/{gcp.project}/serviceAccounts"
        url = f"{base}/{email}"

        def get() -> Any:
            return gcp.http("GET", url)

        exists = self._check("iam", url, get, f"reading service account {email}")
        if not exists:
            if not email.endswith(f"@{gcp.project}.iam.gserviceaccount.com"):
                from .errors import GcpConfigError

                raise GcpConfigError(
                    f"Service account {email} does not exist and belongs to another project.",
                    hint="Create it there, or set gcp.service_account to an account ID of "
                    "this project.")
            body = {"accountId": email.split("@")[0],
                    "serviceAccount": {"displayName": "Kepler model runtime",
                                       "description": "Runs Kepler models on Cloud Run"}}
            gcp.send("iam", "POST", base, body, lambda: gcp.http("POST", base, body),
                     doing=f"creating service account {email}")
        self._record("runtime service account", email, exists)

    def secret_names(self) -> list[str]:
        names = [ref.partition(":")[0] for ref in self.settings.secret_env.values()]
        if self.settings.hec_token_secret:
            names.insert(0, self.settings.hec_token_secret)
        return list(dict.fromkeys(n.rsplit("/", 1)[-1] for n in names))

    def secret(self, secret: str) -> None:
        gcp = self.gcp
        path = f"projects/{gcp.project}/secrets/{secret}"
        url = f"{gcp.endpoint('secrets')}/v1/{path}"
        exists = self._check("secretmanager", url,
                             lambda: gcp.secrets().get_secret(name=path),
                             f"reading secret {secret}")
        detail = ""
        if not exists:
            body = {"replication": {"automatic": {}}, "labels": {"managed-by": "kepler"}}
            gcp.send("secretmanager", "POST",
                     f"{gcp.endpoint('secrets')}/v1/projects/{gcp.project}/secrets"
                     f"?secretId={secret}", body,
                     lambda: gcp.secrets().create_secret(
                         parent=f"projects/{gcp.project}", secret_id=secret,
                         secret=body),
                     doing=f"creating secret {secret}")
            value = None if gcp.dry_run else self.local_secret(secret)
            if value is not None:
                gcp.send("secretmanager", "POST", f"{url}:addVersion",
                         {"payload": {"data": "<from Kepler's secret store>"}},
                         lambda: gcp.secrets().add_secret_version(
                             parent=path, payload={"data": value.encode()}),
                         doing=f"adding the first version of secret {secret}")
                detail = "first version from Kepler's secret store"
            elif gcp.dry_run:
                detail = f"first version from 'kepler secrets get {secret}' when set"
            else:
                detail = (f"empty: add its value with 'gcloud secrets versions add {secret} "
                          "--data-file=-' (or 'kepler secrets set' it and provision again)")
        self._grant_accessor(path, url)
        self._record("Secret Manager secret", secret, exists, detail)

    def _grant_accessor(self, path: str, url: str) -> None:
        from google.iam.v1 import iam_policy_pb2, policy_pb2

        gcp = self.gcp
        member = f"serviceAccount:{self.settings.runtime_account()}"
        if gcp.dry_run:
            gcp.send("secretmanager", "GET", f"{url}:getIamPolicy", None, lambda: None,
                     doing="")
            gcp.send("secretmanager", "POST", f"{url}:setIamPolicy",
                     {"policy": {"bindings": [{"role": SECRET_ACCESSOR, "members": [member]}]}},
                     lambda: None, doing="", note="only when the binding is missing")
            return
        policy = gcp.send("secretmanager", "GET", f"{url}:getIamPolicy", None,
                          lambda: gcp.secrets().get_iam_policy(
                              request=iam_policy_pb2.GetIamPolicyRequest(resource=path)),
                          doing=f"reading who may read {path}")
        if any(b.role == SECRET_ACCESSOR and member in b.members for b in policy.bindings):
            return
        new = policy_pb2.Policy()
        new.CopyFrom(policy)
        new.bindings.add(role=SECRET_ACCESSOR, members=[member])
        gcp.send("secretmanager", "POST", f"{url}:setIamPolicy", None,
                 lambda: gcp.secrets().set_iam_policy(
                     request=iam_policy_pb2.SetIamPolicyRequest(resource=path, policy=new)),
                 doing=f"letting {member} read {path}")


def _local_secret(name: str) -> str | None:
    from kepler.api import KeplerError
    from kepler.api import secret_store as get_store

    try:
        return get_store().lookup(name)
    except KeplerError:
        return None


def provision(settings: GcpSettings, *, dry_run: bool = False
              ) -> tuple[list[Step], list[PlannedRequest]]:
    """Make sure the repository, bucket, runtime account and secrets exist; return the steps
    and, in a dry run, every request that would be sent."""
    provisioner = Provisioner(settings, dry_run=dry_run)
    steps = provisioner.run()
    return steps, provisioner.plan or []


__all__ = ["Provisioner", "Step", "provision"]
