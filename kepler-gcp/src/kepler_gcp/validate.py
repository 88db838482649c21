"""``kepler config validate`` for the ``gcp`` section: credentials, project, permissions.

Skipped while ``gcp.project`` is unset (a project that does not deploy to Cloud Run). The
permission check asks Resource Manager's ``testIamPermissions`` for everything ``kepler deploy
--target cloud-run`` and ``kepler gcp provision`` use, and names what is missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kepler.api import CheckResult, KeplerError

#: What deploying needs (kepler deploy, rollout, logs).
DEPLOY_PERMISSIONS = (
    "run.services.create", "run.services.get", "run.services.update", "run.services.delete",
    "run.services.list", "run.services.getIamPolicy", "run.services.setIamPolicy",
    "run.revisions.get", "run.revisions.list", "run.operations.get",
    "cloudbuild.builds.create", "cloudbuild.builds.get",
    "storage.objects.create", "artifactregistry.tags.get",
    "iam.serviceAccounts.actAs", "logging.logEntries.list",
)
#: What ``kepler gcp provision`` needs besides.
PROVISION_PERMISSIONS = (
    "artifactregistry.repositories.get", "artifactregistry.repositories.create",
    "storage.buckets.get", "storage.buckets.create",
    "iam.serviceAccounts.get", "iam.serviceAccounts.create",
    "secretmanager.secrets.get", "secretmanager.secrets.create",
    "secretmanager.secrets.getIamPolicy", "secretmanager.secrets.setIamPolicy",
    "secretmanager.versions.add",
)


def checks(config: Any) -> Iterator[CheckResult]:
    from .clients import Gcp

    try:
        settings = config.section("gcp")
    except KeplerError as exc:
        yield CheckResult(check="gcp: configuration", status="fail", detail=exc.message,
                          hint=exc.hint or "")
        return
    if not settings.project:
        yield CheckResult(check="gcp: project", status="skip",
                          detail="gcp.project is not set (no Cloud Run deployments)",
                          hint="Set gcp.project (or KEPLER_GCP__PROJECT) to deploy to Cloud Run.")
        return
    gcp = Gcp(settings)
    try:
        gcp.credentials  # noqa: B018 - resolves ADC or the key
    except KeplerError as exc:
        yield CheckResult(check="gcp: credentials", status="fail", detail=exc.message,
                          hint=exc.hint or "")
        return
    kind = "anonymous (testing)" if settings.anonymous else \
        "service-account key" if settings.credentials else "Application Default Credentials"
    yield CheckResult(check="gcp: credentials", status="pass", detail=kind)
    name = f"projects/{settings.project}"
    try:
        project = gcp.send("resourcemanager", "GET", name, None,
                           lambda: gcp.projects().get_project(name=name),
                           doing=f"reading project {settings.project}")
    except KeplerError as exc:
        yield CheckResult(check=f"gcp: project {settings.project}", status="fail",
                          detail=exc.message, hint=exc.hint or "Check gcp.project.")
        return
    state = getattr(getattr(project, "state", None), "name", "")
    yield CheckResult(check=f"gcp: project {settings.project}",
                      status="pass" if state in ("ACTIVE", "") else "fail",
                      detail=f"state {state}" if state else "",
                      hint="The project is being deleted or was deleted." if state not in
                      ("ACTIVE", "") else "")
    wanted = list(dict.fromkeys((*DEPLOY_PERMISSIONS, *PROVISION_PERMISSIONS)))
    try:
        answer = gcp.send("resourcemanager", "POST", f"{name}:testIamPermissions", None,
                          lambda: gcp.projects().test_iam_permissions(
                              request={"resource": name, "permissions": wanted}),
                          doing="testing IAM permissions")
    except KeplerError as exc:
        yield CheckResult(check="gcp: permissions", status="fail", detail=exc.message,
                          hint=exc.hint or "")
        return
    granted = set(answer.permissions)
    for label, needed in (("deploy", DEPLOY_PERMISSIONS), ("provision", PROVISION_PERMISSIONS)):
        missing = [p for p in needed if p not in granted]
        yield CheckResult(
            check=f"gcp: permissions to {label}",
            status="fail" if missing else "pass",
            detail=f"missing: {', '.join(missing)}" if missing else
            f"all {len(needed)} granted",
            hint="Grant them to the account in use (e.g. roles/run.admin, "
            "roles/cloudbuild.builds.editor, roles/artifactregistry.writer, "
            "roles/iam.serviceAccountUser, roles/secretmanager.admin)" if missing else "")
