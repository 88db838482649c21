"""Google API failures become Kepler errors with hints: 403, 429, 409, revisions that fail or
never become ready, failed builds, bad credentials, invalid bodies."""

from __future__ import annotations

import json
import urllib.request

import pytest
from gcp_helpers import DEV_IMAGE
from kepler_gcp.errors import (
    GcpBuildError,
    GcpCredentialsError,
    GcpPermissionError,
    GcpQuotaError,
    RevisionNotReadyError,
    translate,
)

SERVICE = "projects/plant-dev/locations/europe-west1/services/pump-failure-dev"


@pytest.fixture
def target(fake):
    from kepler.api import deployer

    fake.add_image(DEV_IMAGE)
    return deployer("cloud-run")


def test_permission_denied(fake, target, model, kepler_cli):
    fake.fail("POST", r"/services$", 403, "Permission 'run.services.create' denied.")
    result = kepler_cli("deploy", str(model), "--target", "cloud-run", "-o", f"image={DEV_IMAGE}")
    assert result.code == 7
    assert "Permission denied while creating Cloud Run service pump-failure-dev" in result.err
    assert "run.services.create" in result.err and "kepler config validate" in result.err


def test_quota_exceeded(fake, target, model):
    fake.fail("POST", r"/services$", 429, "Quota exceeded for quota metric 'Write requests'.")
    with pytest.raises(GcpQuotaError, match="Quota exceeded") as caught:
        target.create("pump-failure", str(model), {"image": DEV_IMAGE})
    assert "quota" in caught.value.hint


def test_a_revision_that_fails_reports_the_containers_reason(fake, target, model, model_v4):
    target.create("pump-failure", str(model), {"image": DEV_IMAGE})
    serving = fake.services[SERVICE]["latestReadyRevision"]
    fake.add_image(DEV_IMAGE.replace(":v3", ":v4"))
    fake.fail_next_revision()
    with pytest.raises(RevisionNotReadyError) as caught:
        target.update("pump-failure", str(model_v4), {"image": DEV_IMAGE.replace(":v3", ":v4")})
    error = caught.value
    assert "failed to become ready" in error.message
    assert "listen on the port defined provided by the PORT=8080" in error.message
    assert "$PORT" in error.hint and "kepler deploy logs pump-failure" in error.hint
    assert error.revision.startswith("pump-failure-dev-v4-") and error.exit_code == 7
    # traffic stays on the revision that served before
    assert fake.services[SERVICE]["latestReadyRevision"] == serving
    status = target.status("pump-failure")
    assert status.status == "failed" and "PORT=8080" in status.details["reason"]


def test_a_revision_that_never_becomes_ready_times_out_with_its_reason(fake, target, model):
    fake.hang_next_revision("Image 'europe-west1-docker.pkg.dev/x' not found.")
    with pytest.raises(RevisionNotReadyError) as caught:
        target.create("pump-failure", str(model), {"image": DEV_IMAGE, "ready_timeout": 0.3})
    assert "did not become ready within 0 s" in caught.value.message or \
        "did not become ready within" in caught.value.message
    assert "not found" in caught.value.message and "image name" in caught.value.hint
    assert target.status("pump-failure").status == "starting"


def test_a_failed_build(fake, model, tiny_context):
    from kepler.api import deployer

    fake.fail_next_build("Step #0: COPY failed: no source files were specified")
    with pytest.raises(GcpBuildError, match="COPY failed") as caught:
        deployer("cloud-run").create("pump-failure", str(model), {})
    assert "cloud-build/builds/" in caught.value.hint
    assert not fake.services


def test_a_missing_bucket_fails_the_upload_with_a_hint(project, gcp_fake, model,
                                                       tiny_context):
    from kepler.api import deployer

    with pytest.raises(Exception, match="kepler gcp provision") as caught:
        deployer("cloud-run").create("pump-failure", str(model), {})
    assert caught.value.exit_code == 7


def test_an_unknown_service_field_is_rejected_by_the_fake(fake):
    request = urllib.request.Request(
        f"{fake.url}/v2/projects/p/locations/l/services?serviceId=x",
        data=json.dumps({"template": {"containers": [{"image": "i"}]}, "replicas": 3}).encode(),
        method="POST", headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 400
    assert "replicas" in json.loads(caught.value.read())["error"]["message"]


def test_translate_maps_google_errors():
    from google.api_core import exceptions as gexc
    from google.auth import exceptions as auth_exc

    assert isinstance(translate(gexc.Unauthenticated("no"), "x"), GcpCredentialsError)
    assert isinstance(translate(gexc.Forbidden("no"), "x"), GcpPermissionError)
    assert isinstance(translate(gexc.ResourceExhausted("no"), "x"), GcpQuotaError)
    assert isinstance(translate(auth_exc.DefaultCredentialsError("none"), "x"),
                      GcpCredentialsError)


def test_a_bad_service_account_key(project, monkeypatch, kepler_cli):
    monkeypatch.setenv("GCP_KEY", '{"type": "service_account"}')
    monkeypatch.setenv("KEPLER_GCP__CREDENTIALS", "${env:GCP_KEY}")
    result = kepler_cli("deploy", "list", "--target", "cloud-run")
    assert result.code == 7
    assert "not a usable service-account key" in result.err
