"""Dry runs print every request that would be sent (the full Service spec) and send none."""

from __future__ import annotations

import json

from gcp_helpers import DEV_IMAGE


def test_dry_run_create_prints_the_build_and_the_service_and_sends_nothing(fake, model,
                                                                           kepler_cli):
    result = kepler_cli("deploy", str(model), "--target", "cloud-run", "--dry-run")
    assert result.code == 0, result.err
    assert fake.requests == []
    out = result.out
    assert "(dry run: not sent)" in out
    assert "/upload/storage/v1/b/plant-dev-kepler-builds/o?uploadType=multipart" in out
    assert "/v1/projects/plant-dev/locations/europe-west1/builds" in out
    assert "/v2/projects/plant-dev/locations/europe-west1/services?serviceId=pump-failure-dev" \
        in out
    assert DEV_IMAGE in out and '"containerPort": 8080' in out
    assert '"maxInstanceCount": 3' in out and '"kepler-version": "3"' in out


def test_dry_run_canary_plans_the_traffic_split(fake, model, kepler_cli):
    result = kepler_cli("--env", "prod", "deploy", str(model), "--target", "cloud-run",
                        "--dry-run", "--canary", "10", "-o",
                        "image=us-central1-docker.pkg.dev/plant-prod/kepler/pump-failure:v3",
                        "--json")
    assert result.code == 0, result.err
    assert fake.requests == []
    requests = json.loads(result.out)
    methods = [(r["method"], r["url"].split("/v", 1)[-1]) for r in requests]
    assert methods[0] == ("GET", "2/projects/plant-prod/locations/us-central1/services/"
                                 "pump-failure-prod")
    assert methods[1][0] == "GET" and "/tags/v3" in methods[1][1]
    patch = requests[2]
    assert patch["method"] == "PATCH"
    traffic = patch["body"]["traffic"]
    assert [t["percent"] for t in traffic] == [10, 90] and traffic[0]["tag"] == "canary"
    assert traffic[1]["revision"] == "<the revision serving now>"
    env = patch["body"]["template"]["containers"][0]["env"]
    assert {"name": "KEPLER_SPLUNK__HEC_TOKEN", "valueSource": {"secretKeyRef": {
        "secret": "kepler-hec-token", "version": "latest"}}} in env
    assert requests[-1]["url"].endswith(":setIamPolicy")  # prod is public


def test_sdk_dry_run_returns_the_requests(fake, model, kepler_cli):
    from kepler.api import namespace

    plan = namespace("deploy").to_cloud_run(model, dry_run=True, image=DEV_IMAGE,
                                            env="staging")
    assert fake.requests == []
    assert "plant-staging" in str(plan)
    body = next(r for r in plan if r.method == "POST").body
    assert body["template"]["scaling"] == {"maxInstanceCount": 5}
    # env= held for the call only; nothing recorded
    generic = namespace("deploy").plan(model, target="cloud-run", image=DEV_IMAGE)
    assert "plant-dev" in generic[-1].render() and fake.requests == []
    assert json.loads(kepler_cli("deploy", "list", "--json").out)["deployments"] == []


def test_a_dry_run_through_kepler_deploy_is_refused_with_the_way(fake, model, kepler_cli):
    result = kepler_cli("deploy", str(model), "--target", "cloud-run", "-o", "dry_run=true")
    assert result.code == 1
    assert "kepler deploy MODEL --target cloud-run --dry-run" in result.err
    assert fake.requests == []
