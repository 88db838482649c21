"""Create, update, status, list, logs, predict and delete on Container Apps against the fake,
through the SDK and the generic ``kepler deploy`` CLI, with the real Azure SDK clients."""

from __future__ import annotations

import io
import json
import tarfile

import pytest
from azure_helpers import APP, IMAGE
from kepler.api import DeploymentNotFoundError, namespace
from kepler_azure._base import size, workers_for
from kepler_azure.errors import AzureConflictError


def app_props(fake, app=APP):
    return fake.apps[app]["properties"]


def test_create_builds_the_image_in_acr_and_deploys(fake, model, tiny_context):
    dep = namespace("deploy").to_azure(model)

    assert (dep.name, dep.target, dep.model, dep.version, dep.status) == \
        ("pump-failure", "azure", "pump-failure", "3", "running")
    assert dep.url.endswith(f"/_apps/{APP}")
    # the build context went to ACR's upload URL; the ACR run built and pushed the image
    [(blob, data)] = fake.blobs.items()
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        names = archive.getnames()
    assert "Dockerfile" in names and "kepler-model.json" in names
    [run] = fake.runs.values()
    assert run["request"]["imageNames"] == ["pump-failure:v3"]
    assert run["request"]["sourceLocation"] == "source/" + blob.rsplit("/", 1)[-1]
    assert IMAGE in fake.images
    props = app_props(fake)
    config, template = props["configuration"], props["template"]
    assert config["activeRevisionsMode"] == "Multiple"
    assert config["ingress"]["external"] is True and config["ingress"]["targetPort"] == 8080
    assert config["ingress"]["traffic"] == [{"latestRevision": True, "weight": 100}]
    identity = ("/subscriptions/sub-dev/resourceGroups/plant-dev/providers/"
                "Microsoft.ManagedIdentity/userAssignedIdentities/kepler-runtime")
    assert config["registries"] == [{"server": "plantacr.azurecr.io", "identity": identity}]
    assert fake.apps[APP]["identity"] == {"type": "UserAssigned",
                                          "userAssignedIdentities": {identity: {}}}
    assert template["scale"] == {"minReplicas": 0, "maxReplicas": 3, "rules": [
        {"name": "http-requests", "http": {"metadata": {"concurrentRequests": "50"}}}]}
    [container] = template["containers"]
    assert container["image"] == IMAGE
    assert container["resources"] == {"cpu": 0.25, "memory": "0.5Gi"}
    assert [(p["type"], p["httpGet"]["path"]) for p in container["probes"]] == \
        [("Startup", "/ready"), ("Readiness", "/ready"), ("Liveness", "/health")]
    assert fake.apps[APP]["tags"] == {"managed-by": "kepler", "kepler-deployment":
                                      "pump-failure", "kepler-model": "pump-failure",
                                      "kepler-version": "3", "kepler-env": "dev"}
    assert "secrets" not in config
    # the LRO was polled through Azure-AsyncOperation until done
    assert len(fake.calls("GET", "/_ops/")) >= 2


def test_sizing_follows_the_artifact():
    from kepler_azure.config import AzureSettings

    class Manifest:
        def __init__(self, size_bytes):
            self.size_bytes, self.files = size_bytes, {}

    settings = AzureSettings()
    assert size(Manifest(1_000_000), settings) == (0.25, 0.5)
    assert size(Manifest(500 * 2**20), settings) == (1.0, 2.0)
    assert size(Manifest(10 * 2**30), settings) == (4.0, 8.0)
    assert size(Manifest(1), AzureSettings(memory="3Gi")) == (1.5, 3.0)
    assert size(Manifest(1), AzureSettings(cpu="2")) == (2.0, 4.0)


def test_deploy_cli_with_a_pushed_image_then_update_status_list_logs_predict_delete(
        fake, model, model_v4, kepler_cli):
    created = kepler_cli("deploy", str(model), "--target", "azure", "-o", f"image={IMAGE}",
                         "--json")
    assert created.code == 0, created.err
    answer = json.loads(created.out)
    assert answer["status"] == "running" and answer["details"]["image"] == IMAGE
    assert fake.runs == {} and fake.blobs == {}
    first = answer["details"]["revision"]

    updated = kepler_cli("deploy", "update", "pump-failure", str(model_v4), "--target", "azure",
                         "-o", "image=plantacr.azurecr.io/pump-failure:v4", "-o",
                         "min_replicas=1", "--json")
    assert updated.code == 0, updated.err
    new = json.loads(updated.out)
    assert new["version"] == "4" and new["details"]["revision"] != first
    assert app_props(fake)["template"]["scale"]["minReplicas"] == 1
    assert len(fake.revisions[APP]) == 2

    status = kepler_cli("deploy", "status", "pump-failure", "--json")
    assert status.code == 0, status.err
    assert json.loads(status.out)["status"] == "running"
    listed = json.loads(kepler_cli("deploy", "list", "--target", "azure", "--json").out)
    assert [d["name"] for d in listed["deployments"]] == ["pump-failure"]

    fake.add_app_log(APP, "INFO: Uvicorn running on http://0.0.0.0:8080")
    fake.add_app_log(APP, "INFO: POST /predict 200")
    logs = kepler_cli("deploy", "logs", "pump-failure", "--lines", "1")
    assert logs.code == 0, logs.err
    assert "POST /predict 200" in logs.out and "Uvicorn" not in logs.out

    answer = namespace("deploy").predict("pump-failure", [{"a": 1}, {"a": 2}])
    assert answer["predictions"] == [0, 0]

    deleted = kepler_cli("deploy", "delete", "pump-failure")
    assert deleted.code == 0, deleted.err
    assert APP not in fake.apps
    with pytest.raises(DeploymentNotFoundError):
        namespace("deploy").status("pump-failure", target="azure")


def test_create_refuses_an_existing_app_and_to_azure_updates_it(fake, model):
    from kepler.api import deployer

    namespace("deploy").to_azure(model, image=IMAGE)
    with pytest.raises(AzureConflictError):
        deployer("azure").create("pump-failure", str(model), {"image": IMAGE})
    again = namespace("deploy").to_azure(model, image=IMAGE)
    assert again.status == "running" and len(fake.revisions[APP]) == 2


def test_per_environment_settings_reach_the_app(fake, model, kepler_cli, monkeypatch):
    result = kepler_cli("--env", "prod", "deploy", str(model), "--target", "azure", "-o",
                        f"image={IMAGE}", "--json")
    assert result.code == 0, result.err
    app = fake.apps["pump-failure-prod"]
    assert app["id"].startswith("/subscriptions/sub-prod/resourceGroups/plant-prod/")
    assert app["location"] == "northeurope"
    config = app["properties"]["configuration"]
    assert config["ingress"]["external"] is False
    assert app["properties"]["template"]["scale"]["maxReplicas"] == 20
    # the HEC token: a Key Vault reference through the identity, never a value
    identity = ("/subscriptions/sub-prod/resourceGroups/plant-prod/providers/"
                "Microsoft.ManagedIdentity/userAssignedIdentities/kepler-runtime")
    assert config["secrets"] == [{"name": "hec-token", "identity": identity, "keyVaultUrl":
                                  "https://plant-kv.vault.azure.net/secrets/kepler-hec-token"}]
    env = app["properties"]["template"]["containers"][0]["env"]
    assert {"name": "KEPLER_SPLUNK__HEC_TOKEN", "secretRef": "hec-token"} in env
    assert not any("value" in s for s in config["secrets"])
    monkeypatch.setenv("KEPLER_AZURE__MAX_REPLICAS", "7")
    staged = namespace("deploy").to_azure(model, image=IMAGE, env="staging", name="pumps")
    assert staged.details["resource_group"] == "plant-staging"
    assert fake.apps["pumps-staging"]["properties"]["template"]["scale"][
        "maxReplicas"] == 7


def _workers_env(fake, app=APP):
    env = app_props(fake, app)["template"]["containers"][0]["env"]
    return [e.get("value") for e in env if e["name"] == "KEPLER_SERVE__WORKERS"]


def test_the_server_gets_a_worker_per_core_of_the_replica(fake, model):
    assert [workers_for(c) for c in (0.25, 0.5, 1.0, 1.5, 2.0, 4.0)] == [1, 1, 1, 1, 2, 4]
    assert workers_for(4.0, 3) == 3
    namespace("deploy").to_azure(model, image=IMAGE)  # auto: a quarter core
    assert _workers_env(fake) == ["1"]
    namespace("deploy").to_azure(model, image=IMAGE, cpu="2")
    assert app_props(fake)["template"]["containers"][0]["resources"]["cpu"] == 2.0
    assert _workers_env(fake) == ["2"]


def test_the_workers_setting_and_the_users_variable_win(fake, model):
    namespace("deploy").to_azure(model, image=IMAGE, cpu="2", workers=3)
    assert _workers_env(fake) == ["3"]
    namespace("deploy").to_azure(model, image=IMAGE, cpu="2",
                                 env_vars={"KEPLER_SERVE__WORKERS": "1"})
    assert _workers_env(fake) == ["1"]
