"""Azure Container Instances: a single container group (public or private IP), the HEC token
as a secure variable, no canary; batch scoring in a group that stops when done."""

from __future__ import annotations

import base64
import json

import pytest
from azure_helpers import IMAGE
from kepler.api import DeploymentError, deployer, namespace

GROUP = "pump-failure-dev"


def test_create_status_logs_predict_delete(fake, model, kepler_cli):
    result = kepler_cli("deploy", str(model), "--target", "azure-aci", "-o", f"image={IMAGE}",
                        "--json")
    assert result.code == 0, result.err
    answer = json.loads(result.out)
    assert answer["status"] == "running" and answer["details"]["ip_type"] == "Public"
    assert answer["details"]["autoscaling"] == "none (Container Instances)"
    group = fake.container_groups[GROUP]
    props = group["properties"]
    assert props["restartPolicy"] == "Always" and props["osType"] == "Linux"
    assert props["ipAddress"]["dnsNameLabel"] == GROUP
    [container] = props["containers"]
    assert container["properties"]["resources"]["requests"] == {"cpu": 1.0, "memoryInGB": 0.5}
    assert container["properties"]["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["properties"]["livenessProbe"]["httpGet"]["path"] == "/health"
    assert props["imageRegistryCredentials"][0]["server"] == "plantacr.azurecr.io"

    fake.group_logs[GROUP] = "starting\nready\nPOST /predict 200"
    assert deployer("azure-aci").logs("pump-failure", lines=2) == ["ready", "POST /predict 200"]
    answer = namespace("deploy").predict("pump-failure", [{"a": 1}])
    assert answer["predictions"] == [0]
    listed = namespace("deploy").list(target="azure-aci")
    assert [d.name for d in listed] == ["pump-failure"]
    namespace("deploy").delete("pump-failure")
    assert GROUP not in fake.container_groups


def test_private_ip_needs_a_subnet_and_canary_is_refused(fake, model):
    target = deployer("azure-aci")
    with pytest.raises(DeploymentError, match="subnet_id is not set"):
        target.create("pump-failure", str(model), {"image": IMAGE, "ip_address": "private"})
    subnet = "/subscriptions/sub-dev/resourceGroups/net/providers/Microsoft.Network/" \
             "virtualNetworks/v/subnets/aci"
    dep = target.create("pump-failure", str(model), {"image": IMAGE, "ip_address": "private",
                                                     "subnet_id": subnet})
    assert dep.details["ip"] == "10.0.0.4" and dep.url == "http://10.0.0.4:8080"
    assert fake.container_groups[GROUP]["properties"]["subnetIds"] == [{"id": subnet}]
    with pytest.raises(DeploymentError, match="no revisions"):
        target.update("pump-failure", str(model), {"image": IMAGE, "canary": 10})


def test_hec_token_is_a_secure_value_from_the_secret_store(fake, model, monkeypatch):
    from kepler.api import secret_store

    monkeypatch.setenv("KEPLER_AZURE__HEC_TOKEN_SECRET", "kepler-hec-token")
    target = deployer("azure-aci")
    with pytest.raises(DeploymentError, match="kepler secrets set kepler-hec-token"):
        target.create("pump-failure", str(model), {"image": IMAGE})
    secret_store().set("kepler-hec-token", "hec-s3cret")
    target.create("pump-failure", str(model), {"image": IMAGE})
    env = fake.container_groups[GROUP]["properties"]["containers"][0]["properties"][
        "environmentVariables"]
    assert {"name": "KEPLER_SPLUNK__HEC_TOKEN"} in env  # ARM keeps no value
    assert fake.secure_values(GROUP) == {"KEPLER_SPLUNK__HEC_TOKEN": "hec-s3cret"}
    sent = fake.calls("PUT", "containerGroups")[-1].body
    [hec] = [e for e in sent["properties"]["containers"][0]["properties"][
        "environmentVariables"] if e["name"] == "KEPLER_SPLUNK__HEC_TOKEN"]
    assert set(hec) == {"name", "secureValue"}
    plan = target.plan("pump-failure", str(model), {"image": IMAGE}, action="update")
    assert "hec-s3cret" not in json.dumps([p.as_dict() for p in plan])


def test_batch_job_runs_in_a_group_that_stops(fake, model, tmp_path):
    rows = tmp_path / "rows.csv"
    rows.write_text("a,b\n1,2\n3,4\n")
    fake.finish_batch_with(0, '{"rows": 2, "written": 2}')
    report = deployer("azure-aci").run_batch("pump-failure", str(model), {
        "image": IMAGE, "input": str(rows), "args": ["--sink", "splunk-hec"]})
    group = fake.container_groups[report["group"]]
    props = group["properties"]
    assert props["restartPolicy"] == "Never" and "ipAddress" not in props
    container = props["containers"][0]["properties"]
    assert container["command"] == ["kepler", "predict", "/app/model", "--input",
                                    "/mnt/kepler-input/rows.csv", "--sink", "splunk-hec",
                                    "--json"]
    assert base64.b64decode(props["volumes"][0]["secret"]["rows.csv"]) == rows.read_bytes()
    assert report["state"] == "Succeeded" and report["exit_code"] == 0
    assert report["logs"] == ['{"rows": 2, "written": 2}']
    # batch groups are not deployments
    assert namespace("deploy").list(target="azure-aci") == []


def test_a_failing_batch_raises_with_its_log(fake, model):
    fake.finish_batch_with(3, "Traceback ...\nModelInputError: column 'b' is missing")
    with pytest.raises(DeploymentError, match="exit code 3") as caught:
        deployer("azure-aci").run_batch("pump-failure", str(model), {"image": IMAGE})
    assert "column 'b' is missing" in caught.value.message


def test_a_group_that_fails_to_provision(fake, model):
    from kepler_azure.errors import RevisionNotReadyError

    fake.fail_next_revision("The image 'x' in container group is not accessible.")
    with pytest.raises(RevisionNotReadyError, match="not accessible"):
        deployer("azure-aci").create("pump-failure", str(model), {"image": IMAGE})


def test_kepler_predict_target_runs_the_batch_on_aci(fake, model, tmp_path, kepler_cli):
    rows = tmp_path / "rows.csv"
    rows.write_text("a\n1\n")
    fake.finish_batch_with(0, '{"rows": 1}')
    result = kepler_cli("predict", str(model), "--input", str(rows), "--to-splunk", "--index",
                        "ml", "--target", "azure-aci", "--json", "--keep", "asset_id")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["state"] == "Succeeded" and report["logs"] == ['{"rows": 1}']
    command = fake.container_groups[report["group"]]["properties"]["containers"][0][
        "properties"]["command"]
    assert command == ["kepler", "predict", "/app/model", "--input", "/mnt/kepler-input/rows.csv",
                       "--index", "ml", "--keep", "asset_id", "--to-splunk", "--json"]


def test_kepler_predict_target_without_batch_support(fake, model, tmp_path, kepler_cli):
    rows = tmp_path / "rows.csv"
    rows.write_text("a\n1\n")
    result = kepler_cli("predict", str(model), "--input", str(rows), "--target", "azure")
    assert result.code != 0 and "does not run batch jobs" in result.err
    result = kepler_cli("predict", str(model), "--input", str(rows), "--output",
                        str(tmp_path / "out.csv"), "--target", "azure-aci")
    assert result.code == 2 and "--output writes a file here" in result.err


def test_the_group_gets_a_worker_per_requested_core(fake, model):
    target = deployer("azure-aci")
    target.create("pump-failure", str(model), {"image": IMAGE, "cpu": "2"})
    env = fake.container_groups[GROUP]["properties"]["containers"][0]["properties"][
        "environmentVariables"]
    assert [e["value"] for e in env if e["name"] == "KEPLER_SERVE__WORKERS"] == ["2"]
