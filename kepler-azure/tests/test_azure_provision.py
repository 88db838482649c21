"""kepler azure provision: resource group, workspace, managed environment, registry, identity
with AcrPull, Key Vault with the HEC token secret; idempotent; a dry run sends nothing."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def bare(project, azure_fake):
    """The fake ARM with nothing provisioned."""
    return azure_fake


def test_provision_creates_everything_then_changes_nothing(bare, kepler_cli):
    from kepler.api import secret_store

    secret_store().set("kepler-hec-token", "hec-value")
    first = kepler_cli("azure", "provision", "--env", "prod", "--json")
    assert first.code == 0, first.err
    steps = json.loads(first.out)["steps"]
    assert [(s["resource"], s["action"]) for s in steps] == [
        ("resource group", "created"), ("Log Analytics workspace", "created"),
        ("managed environment", "created"), ("managed identity", "created"),
        ("container registry", "created"), ("role assignment", "created"),
        ("Key Vault", "created"), ("role assignment", "created"),
        ("Key Vault secret", "created")]
    assert "plant-prod" in bare.groups
    base = "/subscriptions/sub-prod/resourcegroups/plant-prod/providers/"
    env = bare.resources[base + "microsoft.app/managedenvironments/kepler-env"]
    logs = env["properties"]["appLogsConfiguration"]["logAnalyticsConfiguration"]
    workspace = bare.resources[base + "microsoft.operationalinsights/workspaces/kepler-logs"]
    assert logs["customerId"] == workspace["properties"]["customerId"]
    assert logs["sharedKey"] == "ZmFrZS1wcmltYXJ5"
    identity = bare.resources[base + "microsoft.managedidentity/userassignedidentities/"
                              "kepler-runtime"]
    assignments = [r for k, r in bare.resources.items() if "/roleassignments/" in k]
    assert {a["properties"]["roleDefinitionId"].rsplit("/", 1)[-1] for a in assignments} == {
        "7f951dda-4ed3-4680-a7ca-43fe172d538d", "4633458b-17de-408a-b874-0445c86b69e6"}
    assert all(a["properties"]["principalId"] == identity["properties"]["principalId"]
               for a in assignments)
    assert list(bare.secret_values.values()) == ["hec-value"]
    writes = len(bare.calls("PUT"))

    again = kepler_cli("azure", "provision", "--env", "prod")
    assert again.code == 0, again.err
    assert "(created)" not in again.out and again.out.count("(exists)") == 9
    assert len(bare.calls("PUT")) == writes


def test_provision_dry_run_sends_nothing(bare, kepler_cli):
    result = kepler_cli("azure", "provision", "--dry-run")
    assert result.code == 0, result.err
    assert bare.requests == []
    assert "Dry run (environment dev)" in result.out
    assert "/subscriptions/sub-dev/resourceGroups/plant-dev?api-version=2025-04-01" in result.out
    assert "registries/plantacr" in result.out
    assert "would create if missing" in result.out


def test_a_secret_without_a_local_value_is_reported_missing(bare, kepler_cli):
    result = kepler_cli("azure", "provision", "--env", "prod")
    assert result.code == 0, result.err
    assert "Key Vault secret: kepler-hec-token (missing)" in result.out
    assert "kepler secrets set kepler-hec-token" in result.out


def test_provision_is_refused_without_permission(bare, kepler_cli):
    bare.fail("PUT", r"/resourcegroups/plant-dev$", 403)
    result = kepler_cli("azure", "provision")
    assert result.code == 7 and "Permission denied" in result.err
