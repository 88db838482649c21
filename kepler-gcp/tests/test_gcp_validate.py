"""``kepler config validate``: credentials, project, testIamPermissions naming what is missing."""

from __future__ import annotations

import json


def rows(result):
    return {r["check"]: r for r in json.loads(result.out)["results"]} \
        if result.out.strip().startswith("{") else result.out


def test_everything_granted(fake, kepler_cli):
    result = kepler_cli("config", "validate")
    assert result.code == 0, result.out + result.err
    assert "gcp: permissions to deploy" in result.out
    assert "gcp: project plant-dev" in result.out
    asked = fake.calls("POST", ":testIamPermissions")[0].body["permissions"]
    assert "run.services.create" in asked and "iam.serviceAccounts.actAs" in asked


def test_missing_permissions_are_named(fake, kepler_cli):
    fake.deny("run.services.setIamPolicy", "cloudbuild.builds.create")
    result = kepler_cli("config", "validate")
    assert result.code == 6
    assert "run.services.setIamPolicy" in result.out and "cloudbuild.builds.create" in result.out


def test_an_unreachable_project_fails(fake, kepler_cli):
    fake.missing_projects.add("plant-prod")
    result = kepler_cli("--env", "prod", "config", "validate")
    assert result.code == 6
    assert "gcp: project plant-prod" in result.out


def test_without_a_project_the_checks_are_skipped(gcp_fake, kepler_cli):
    result = kepler_cli("config", "validate")
    assert result.code == 0, result.out + result.err
    assert "gcp.project is not set" in result.out
    assert gcp_fake.requests == []


def test_missing_credentials_fail_with_the_way_to_log_in(project, kepler_cli, monkeypatch,
                                                         tmp_path):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "no-such-key.json"))
    result = kepler_cli("config", "validate")
    assert result.code == 6
    assert "gcp: credentials" in result.out
    assert "gcloud auth application-default login" in result.out
