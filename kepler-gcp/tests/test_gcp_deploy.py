"""Create, update, status, list, logs, predict and delete against the fake, through the SDK
and the generic ``kepler deploy`` CLI, with the real Google client libraries."""

from __future__ import annotations

import json

import pytest
from gcp_helpers import DEV_IMAGE, write_model
from kepler.api import DeploymentNotFoundError, namespace
from kepler_gcp.deployer import cpu_for, size_memory, workers_for
from kepler_gcp.errors import GcpAlreadyExistsError, GcpImageNotFoundError

SERVICE = "projects/plant-dev/locations/europe-west1/services/pump-failure-dev"


def spec(fake, service=SERVICE):
    return fake.services[service]["spec"]


def test_create_builds_the_image_and_deploys(fake, model, tiny_context):
    dep = namespace("deploy").to_cloud_run(model)

    assert (dep.name, dep.target, dep.model, dep.version, dep.status) == \
        ("pump-failure", "cloud-run", "pump-failure", "3", "running")
    assert dep.url.endswith("/_run/pump-failure-dev")
    # the build context went to Cloud Storage, Cloud Build built and pushed the tagged image
    [(bucket, obj)] = fake.objects
    assert bucket == "plant-dev-kepler-builds" and obj.endswith(".tar.gz")
    [build] = fake.builds
    assert build["images"] == [DEV_IMAGE]
    assert build["source"]["storageSource"] == {"bucket": bucket, "object": obj}
    assert build["steps"][0]["args"] == ["build", "-t", DEV_IMAGE, "."]
    # the Service: image, port, resources, scaling, account, ingress, labels, env
    service = spec(fake)
    container = service["template"]["containers"][0]
    assert container["image"] == DEV_IMAGE
    assert container["ports"] == [{"name": "http1", "containerPort": 8080}]
    assert container["resources"]["limits"] == {"cpu": "1", "memory": "512Mi"}
    assert service["template"]["scaling"] == {"maxInstanceCount": 3}  # min 0 is the default
    assert service["template"]["maxInstanceRequestConcurrency"] == 80
    assert service["template"]["timeout"] == "300s"
    assert service["template"]["serviceAccount"] == \
        "kepler-runtime@plant-dev.iam.gserviceaccount.com"
    assert service["ingress"] == "INGRESS_TRAFFIC_ALL"
    assert service["labels"] == {"managed-by": "kepler", "kepler-deployment": "pump-failure",
                                 "kepler-model": "pump-failure", "kepler-version": "3",
                                 "kepler-env": "dev"}
    assert container["env"] == [{"name": "KEPLER_ENV", "value": "dev"},
                                {"name": "KEPLER_SERVE__WORKERS", "value": "1"}]
    # the operation was polled while done was false; the service stays authenticated
    polls = fake.calls("GET", "/operations/")
    assert len(polls) >= 2
    assert not fake.calls("POST", ":setIamPolicy")
    assert not fake.public(SERVICE)


def test_deploy_cli_with_a_pushed_image_skips_the_build(fake, model, kepler_cli):
    fake.add_image(DEV_IMAGE)
    result = kepler_cli("deploy", str(model), "--target", "cloud-run", "-o",
                        f"image={DEV_IMAGE}", "--json")
    assert result.code == 0, result.err
    answer = json.loads(result.out)
    assert answer["status"] == "running" and answer["details"]["image"] == DEV_IMAGE
    assert fake.builds == [] and fake.objects == {}
    assert fake.calls("GET", "/packages/pump-failure/tags/v3")


def test_an_image_missing_from_artifact_registry_is_refused(fake, model, kepler_cli):
    result = kepler_cli("deploy", str(model), "--target", "cloud-run", "-o",
                        f"image={DEV_IMAGE.replace(':v3', ':v9')}")
    assert result.code == 7
    assert "is not in Artifact Registry" in result.err and "Hint:" in result.err
    assert not fake.services
    from kepler.api import deployer

    target = deployer("cloud-run")
    with pytest.raises(GcpImageNotFoundError):
        target.create("pump-failure", str(model), {"image": DEV_IMAGE})


def test_create_refuses_an_existing_service(fake, model):
    from kepler.api import deployer

    fake.add_image(DEV_IMAGE)
    deployer("cloud-run").create("pump-failure", str(model), {"image": DEV_IMAGE})
    with pytest.raises(GcpAlreadyExistsError, match="already exists") as caught:
        deployer("cloud-run").create("pump-failure", str(model), {"image": DEV_IMAGE})
    assert caught.value.exit_code == 7 and "update" in caught.value.hint


def test_update_serves_the_new_version_on_a_new_revision(fake, model, model_v4, tiny_context):
    from kepler_gcp import sdk

    first = namespace("deploy").to_cloud_run(model)
    second = namespace("deploy").to_cloud_run(model_v4)  # exists: updated in place
    assert second.version == "4" and second.details["revision"] != first.details["revision"]
    assert spec(fake)["labels"]["kepler-version"] == "4"
    assert spec(fake)["template"]["containers"][0]["image"].endswith("pump-failure:v4")
    assert fake.services[SERVICE]["traffic"] == [
        {"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", "percent": 100}]
    history = sdk.revisions("pump-failure")
    assert [r["version"] for r in history] == ["4", "3"]
    assert [r["traffic"] for r in history] == [100, 0]
    assert fake.calls("PATCH", "/services/pump-failure-dev")


def test_prod_settings_come_from_its_environment(fake, model, kepler_cli):
    fake.add_image("us-central1-docker.pkg.dev/plant-prod/kepler/pump-failure:v3")
    result = kepler_cli("--env", "prod", "deploy", str(model), "--target", "cloud-run", "-o",
                        "image=us-central1-docker.pkg.dev/plant-prod/kepler/pump-failure:v3")
    assert result.code == 0, result.err
    full = "projects/plant-prod/locations/us-central1/services/pump-failure-prod"
    service = spec(fake, full)
    assert service["template"]["scaling"] == {"minInstanceCount": 1, "maxInstanceCount": 20}
    assert service["ingress"] == "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
    assert service["labels"]["kepler-env"] == "prod"
    env = service["template"]["containers"][0]["env"]
    hec = [e for e in env if e["name"] == "KEPLER_SPLUNK__HEC_TOKEN"]
    assert hec == [{"name": "KEPLER_SPLUNK__HEC_TOKEN", "valueSource": {"secretKeyRef": {
        "secret": "kepler-hec-token", "version": "latest"}}}]
    assert all("value" not in e for e in hec)  # a reference, never the value
    assert {"name": "KEPLER_SERVE__LOG_TO_SPLUNK", "value": "true"} in env
    assert fake.public(full)  # invoker: public in prod
    # staging: its own project, dev's region and the rest
    assert kepler_cli("--env", "staging", "config", "show", "--json").code == 0


def test_environment_variables_override_the_file(fake, model, monkeypatch):
    monkeypatch.setenv("KEPLER_GCP__MAX_INSTANCES", "7")
    monkeypatch.setenv("KEPLER_GCP__MEMORY", "2Gi")
    fake.add_image(DEV_IMAGE)
    namespace("deploy").to_cloud_run(model, image=DEV_IMAGE, concurrency=4)
    template = spec(fake)["template"]
    assert template["scaling"] == {"maxInstanceCount": 7}
    assert template["maxInstanceRequestConcurrency"] == 4
    assert template["containers"][0]["resources"]["limits"] == {"cpu": "1", "memory": "2Gi"}


def test_memory_and_cpu_are_sized_from_the_artifact(fake, tmp_path, tiny_context):
    assert size_memory(0) == "512Mi" and size_memory(300 * 2**20) == "2Gi"
    assert size_memory(10 * 2**30) == "32Gi"
    assert [cpu_for(m) for m in ("512Mi", "2Gi", "4Gi", "8Gi", "16Gi", "32Gi")] == \
        ["1", "1", "2", "2", "4", "8"]
    big = write_model(tmp_path / "big", name="big-model", version=1, size=2 * 2**30)
    namespace("deploy").to_cloud_run(big)
    full = "projects/plant-dev/locations/europe-west1/services/big-model-dev"
    limits = fake.services[full]["spec"]["template"]["containers"][0]["resources"]["limits"]
    assert limits == {"cpu": "2", "memory": "8Gi"}


def test_status_list_logs_predict_delete(fake, model, kepler_cli, tmp_path):
    fake.add_image(DEV_IMAGE)
    assert kepler_cli("deploy", str(model), "--target", "cloud-run", "-o",
                      f"image={DEV_IMAGE}").code == 0
    status = kepler_cli("deploy", "status", "pump-failure", "--json")
    assert status.code == 0, status.err
    assert json.loads(status.out)["status"] == "running"

    listed = kepler_cli("deploy", "list", "--target", "cloud-run", "--json")
    assert [d["name"] for d in json.loads(listed.out)["deployments"]] == ["pump-failure"]

    fake.add_log("pump-failure-dev", "Uvicorn running on http://0.0.0.0:8080")
    fake.add_log("pump-failure-dev", "POST /predict 200", severity="INFO")
    logs = kepler_cli("deploy", "logs", "pump-failure", "-n", "5")
    assert logs.code == 0, logs.err
    assert logs.out.splitlines()[-1].endswith("POST /predict 200")
    assert "Uvicorn running" in logs.out.splitlines()[0]

    inputs = tmp_path / "rows.json"
    inputs.write_text(json.dumps({"instances": [{"temperature": 70}, {"temperature": 90}]}))
    predicted = kepler_cli("deploy", "predict", "pump-failure", "--data", str(inputs))
    assert predicted.code == 0, predicted.err
    assert json.loads(predicted.out)["predictions"] == [0, 0]

    assert kepler_cli("deploy", "delete", "pump-failure").code == 0
    assert SERVICE not in fake.services
    gone = kepler_cli("deploy", "status", "pump-failure", "--target", "cloud-run")
    assert gone.code == 1 and "No Cloud Run deployment named 'pump-failure'" in gone.err
    from kepler.api import deployer

    with pytest.raises(DeploymentNotFoundError):
        deployer("cloud-run").get("pump-failure")


def test_list_skips_services_kepler_did_not_make(fake, model):
    from kepler.api import deployer

    fake.add_image(DEV_IMAGE)
    deployer("cloud-run").create("pump-failure", str(model), {"image": DEV_IMAGE})
    fake.services["projects/plant-dev/locations/europe-west1/services/other"] = {
        **fake.services[SERVICE], "spec": {**spec(fake), "labels": {}}}
    assert [d.name for d in deployer("cloud-run").list()] == ["pump-failure"]


def test_the_uploaded_source_is_kepler_serves_build_context(fake, model):
    import io
    import tarfile

    namespace("deploy").to_cloud_run(model)
    [data] = fake.objects.values()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        names = set(archive.getnames())
        dockerfile = archive.extractfile("Dockerfile").read().decode()
    assert {"Dockerfile", "requirements.lock", "entrypoint.py", "model/kepler-model.json"} <= \
        names
    assert "USER kepler" in dockerfile and "HEALTHCHECK" in dockerfile


def test_invoker_and_secret_env_per_deployment(fake, model, model_v4):
    fake.add_image(DEV_IMAGE)
    namespace("deploy").to_cloud_run(model, image=DEV_IMAGE, invoker="public",
                           secret_env={"KEPLER_SERVE__API_KEY": "serve-key:2"})
    assert fake.public(SERVICE)
    env = spec(fake)["template"]["containers"][0]["env"]
    assert {"name": "KEPLER_SERVE__API_KEY", "valueSource": {"secretKeyRef": {
        "secret": "serve-key", "version": "2"}}} in env
    namespace("deploy").to_cloud_run(model_v4, image=DEV_IMAGE)  # back to the section's: authenticated
    assert not fake.public(SERVICE)
    with pytest.raises(Exception, match="looks like a secret"):
        namespace("deploy").to_cloud_run(model, image=DEV_IMAGE, env_vars={"SPLUNK_PASSWORD": "x"})


def _workers_env(service):
    env = service["template"]["containers"][0]["env"]
    return [e.get("value") for e in env if e["name"] == "KEPLER_SERVE__WORKERS"]


def test_the_server_gets_a_worker_per_cpu_of_the_instance(fake, model, tmp_path):
    assert [workers_for(c) for c in ("1", "2", "4", "0.5", "500m", "2500m")] == \
        [1, 2, 4, 1, 1, 2]
    assert workers_for("4", 3) == 3
    fake.add_image(DEV_IMAGE)
    namespace("deploy").to_cloud_run(model, image=DEV_IMAGE, cpu="4")
    assert _workers_env(spec(fake)) == ["4"]
    big = write_model(tmp_path / "big", name="big-model", version=1, size=2 * 2**30)
    namespace("deploy").to_cloud_run(big)  # cpu auto from 8Gi of memory: 2 CPUs
    full = "projects/plant-dev/locations/europe-west1/services/big-model-dev"
    assert _workers_env(fake.services[full]["spec"]) == ["2"]


def test_the_workers_setting_and_the_users_variable_win(fake, model, tmp_path):
    fake.add_image(DEV_IMAGE)
    namespace("deploy").to_cloud_run(model, image=DEV_IMAGE, cpu="4", workers=3)
    assert _workers_env(spec(fake)) == ["3"]
    other = write_model(tmp_path / "other", name="other-model", version=1)
    fake.add_image(DEV_IMAGE.replace("pump-failure", "other-model"))
    namespace("deploy").to_cloud_run(other, image=DEV_IMAGE, cpu="4",
                                     env_vars={"KEPLER_SERVE__WORKERS": "1"})
    full = "projects/plant-dev/locations/europe-west1/services/other-model-dev"
    assert _workers_env(fake.services[full]["spec"]) == ["1"]
