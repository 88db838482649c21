"""Dry runs print every request that would be sent (the full ARM bodies) and send none."""

from __future__ import annotations

import json

from azure_helpers import IMAGE
from kepler.api import namespace


def test_dry_run_create_prints_the_build_and_the_app_and_sends_nothing(fake, model,
                                                                        kepler_cli):
    result = kepler_cli("deploy", str(model), "--target", "azure", "--dry-run")
    assert result.code == 0, result.err
    assert fake.requests == []
    out = result.out
    assert "registries/plantacr/listBuildSourceUploadUrl?api-version=2019-06-01-preview" in out
    assert "registries/plantacr/scheduleRun" in out
    assert ("PUT " + fake.url + "/subscriptions/sub-dev/resourceGroups/plant-dev/providers/"
            "Microsoft.App/containerApps/pump-failure-dev?api-version=2026-07-01") in out
    assert '"maxReplicas": 3' in out and '"kepler-version": "3"' in out
    assert json.loads(kepler_cli("deploy", "list", "--json").out)["deployments"] == []


def test_dry_run_canary_plans_the_traffic_split_with_the_vault_secret(fake, model, kepler_cli):
    result = kepler_cli("--env", "prod", "deploy", str(model), "--target", "azure",
                        "--dry-run", "--canary", "10", "-o", f"image={IMAGE}", "--json")
    assert result.code == 0, result.err
    assert fake.requests == []
    requests = json.loads(result.out)
    assert [r["method"] for r in requests] == ["GET", "PUT"]
    body = requests[-1]["body"]
    traffic = body["properties"]["configuration"]["ingress"]["traffic"]
    assert [t["weight"] for t in traffic] == [10, 90] and traffic[0]["label"] == "canary"
    assert traffic[1]["revisionName"] == "<the revision serving now>"
    [secret] = body["properties"]["configuration"]["secrets"]
    assert secret["keyVaultUrl"].endswith("/secrets/kepler-hec-token") and "value" not in secret


def test_sdk_dry_run_returns_the_requests_for_both_targets(fake, model):
    plan = namespace("deploy").to_azure(model, dry_run=True, image=IMAGE, env="staging")
    assert fake.requests == []
    assert "plant-staging" in str(plan)
    body = plan[-1].body
    assert body["properties"]["template"]["scale"]["maxReplicas"] == 5
    aci = namespace("deploy").to_azure(model, dry_run=True, image=IMAGE, target="azure-aci")
    assert "Microsoft.ContainerInstance/containerGroups/pump-failure-dev" in aci[-1].url
    assert fake.requests == []


def test_a_dry_run_option_on_a_real_deploy_is_refused(fake, model, kepler_cli):
    result = kepler_cli("deploy", str(model), "--target", "azure", "-o", "dry_run=true")
    assert result.code == 1
    assert "kepler deploy MODEL --target azure --dry-run" in result.err
    assert fake.requests == []


def test_docker_builder_dry_run_plans_build_and_push(fake, model, kepler_cli):
    result = kepler_cli("deploy", str(model), "--target", "azure", "--dry-run", "-o",
                        "builder=docker")
    assert result.code == 0, result.err
    assert "docker build -t plantacr.azurecr.io/pump-failure:v3" in result.out
    assert "docker push plantacr.azurecr.io/pump-failure:v3" in result.out
    assert "scheduleRun" not in result.out and fake.requests == []
