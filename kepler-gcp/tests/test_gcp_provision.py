"""``kepler gcp provision``: repository, bucket, runtime account, secrets; idempotent."""

from __future__ import annotations

import json


def test_provision_creates_what_is_missing_then_changes_nothing(project, gcp_fake,
                                                                kepler_cli):
    fake = gcp_fake
    assert kepler_cli("secrets", "set", "kepler-hec-token", stdin="hec-value\n").code == 0
    first = kepler_cli("gcp", "provision", "--env", "prod", "--json")
    assert first.code == 0, first.err
    steps = json.loads(first.out)["steps"]
    assert [(s["resource"], s["action"]) for s in steps] == [
        ("Artifact Registry repository", "created"),
        ("Cloud Storage bucket (build sources)", "created"),
        ("runtime service account", "created"),
        ("Secret Manager secret", "created")]
    assert "projects/plant-prod/locations/us-central1/repositories/kepler" in fake.repositories
    assert "plant-prod-kepler-builds" in fake.buckets
    assert "kepler-runtime@plant-prod.iam.gserviceaccount.com" in fake.service_accounts
    secret = "projects/plant-prod/secrets/kepler-hec-token"
    assert fake.secret_versions[secret] == [b"hec-value"]
    assert fake.policies[secret]["bindings"] == [{
        "role": "roles/secretmanager.secretAccessor",
        "members": ["serviceAccount:kepler-runtime@plant-prod.iam.gserviceaccount.com"]}]

    before = len(fake.requests)
    second = kepler_cli("gcp", "provision", "--env", "prod")
    assert second.code == 0, second.err
    assert second.out.count("(exists)") == 4
    again = fake.requests[before:]
    assert {r.method for r in again} == {"GET"}, [(r.method, r.path) for r in again]
    assert fake.secret_versions[secret] == [b"hec-value"]


def test_provision_dry_run_sends_nothing(project, gcp_fake, kepler_cli):
    result = kepler_cli("--env", "prod", "gcp", "provision", "--dry-run")
    assert result.code == 0, result.err
    assert gcp_fake.requests == []
    assert "/v1/projects/plant-prod/locations/us-central1/repositories?repositoryId=kepler" \
        in result.out
    assert "/v1/projects/plant-prod/serviceAccounts" in result.out
    assert "secretId=kepler-hec-token" in result.out
    assert "would create if missing" in result.out


def test_provision_without_a_project_says_how_to_set_it(gcp_fake, kepler_cli):
    result = kepler_cli("gcp", "provision")
    assert result.code == 3
    assert "gcp.project is not set" in result.err and "KEPLER_GCP__PROJECT" in result.err


def test_provision_reports_a_refusal(project, gcp_fake, kepler_cli):
    gcp_fake.fail("POST", r"/serviceAccounts$", 403, "Permission 'iam.serviceAccounts.create' "
                  "denied on resource.")
    result = kepler_cli("gcp", "provision")
    assert result.code == 7
    assert "iam.serviceAccounts.create" in result.err and "kepler config validate" in result.err
