"""The local target end to end: real background servers, started, queried and stopped by the
CLI and the SDK; and ``kepler serve`` in the foreground ($PORT, graceful SIGTERM)."""

from __future__ import annotations

import json
import os
import time
import urllib.request
from pathlib import Path

import kepler as kp
import pytest
from serve_helpers import instance


@pytest.fixture
def local_project(project, artifacts):
    """A project whose registry holds pump-failure version 1; every local deployment left at
    the end is stopped."""
    kp.models.load(artifacts["classifier"]).save()
    yield project
    from kepler_serve.local import LocalDeployer

    deployer = LocalDeployer(kp.config.load())
    for deployment in deployer.list():
        deployer.delete(deployment.name)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat")
    return not (state.exists() and state.read_text().rsplit(")", 1)[-1].split()[0] == "Z")


def test_cli_deploy_list_status_predict_logs_update_delete(local_project, kepler_cli):
    created = kepler_cli("deploy", "pump-failure", "--target", "local", "--json")
    assert created.code == 0, created.err
    deployment = json.loads(created.out)
    assert deployment["status"] == "running" and deployment["version"] == "1"
    assert deployment["url"].startswith("http://127.0.0.1:")
    pid = deployment["details"]["pid"]
    record = local_project / ".kepler" / "deployments" / "local" / "pump-failure.json"
    assert record.is_file() and oct(record.stat().st_mode)[-3:] == "600"
    index = json.loads((local_project / ".kepler" / "deployments" / "index.json").read_text())
    assert index["pump-failure"]["target"] == "local"

    listed = json.loads(kepler_cli("deploy", "list", "--json").out)
    assert [d["name"] for d in listed["deployments"]] == ["pump-failure"]
    status = kepler_cli("deploy", "status", "pump-failure")
    assert status.code == 0 and "running" in status.out and "scoring_path: fast" in status.out

    (local_project / "rows.json").write_text(json.dumps({"instances": [instance()]}))
    answer = kepler_cli("deploy", "predict", "pump-failure", "--data", "rows.json")
    assert answer.code == 0, answer.err
    assert json.loads(answer.out)["predictions"] in ([0], [1])
    (local_project / "rows.jsonl").write_text(
        "\n".join(json.dumps(instance(temperature=t)) for t in (60.0, 75.0)))
    answer = kepler_cli("deploy", "predict", "pump-failure", "--data", "rows.jsonl")
    assert len(json.loads(answer.out)["predictions"]) == 2
    (local_project / "bad.json").write_text(json.dumps([instance(temperature="hot")]))
    refused = kepler_cli("deploy", "predict", "pump-failure", "--data", "bad.json")
    assert refused.code == 1 and "instances.0.temperature" in refused.err

    logs = kepler_cli("deploy", "logs", "pump-failure", "-n", "3")
    assert logs.code == 0 and '"path":"/predict"' in logs.out

    again = kepler_cli("deploy", "pump-failure", "--target", "local")
    assert again.code == 1 and "exists already" in again.err

    updated = kepler_cli("deploy", "update", "pump-failure", "pump-failure:1", "-o",
                         "api_key=key-42", "--json")
    assert updated.code == 0, updated.err
    new = json.loads(updated.out)
    assert new["details"]["pid"] != pid and not _pid_alive(pid)
    request = urllib.request.Request(f"{new['url']}/metadata")
    with pytest.raises(urllib.error.HTTPError, match="401"):
        urllib.request.urlopen(request, timeout=5)
    answer = kepler_cli("deploy", "predict", "pump-failure", "--data", "rows.json")
    assert answer.code == 0, answer.err  # the deployer sends the key it started the server with

    deleted = kepler_cli("deploy", "delete", "pump-failure")
    assert deleted.code == 0
    assert not _pid_alive(new["details"]["pid"])
    assert not record.exists()
    assert "No deployments" in kepler_cli("deploy", "list").out
    assert kepler_cli("deploy", "status", "pump-failure").code == 1


def test_sdk_to_local_list_predict_delete(project, sensors):
    model = kp.train.random_forest(sensors.drop(columns=["efficiency"]), target="failure",
                                   n_estimators=5, name="Pump_Failure.v2")
    deployment = kp.deploy.to_local(model)  # an unsaved model is saved to the registry first
    try:
        assert model.version == 1 and deployment.name == "pump-failure-v2"
        assert deployment.model == "Pump_Failure.v2" and deployment.version == "1"
        assert [d.name for d in kp.deploy.list()] == ["pump-failure-v2"]
        rows = sensors.drop(columns=["efficiency", "failure"]).head(4)
        answer = kp.deploy.predict(deployment.name, rows)
        assert answer["predictions"] == model.predict(rows).tolist()
        assert answer["probabilities"] == model.predict_proba(rows).tolist()
        assert kp.deploy.status(deployment.name).status == "running"
        assert any("/predict" in line for line in kp.deploy.logs(deployment.name))
    finally:
        kp.deploy.delete(deployment.name)
    assert list(kp.deploy.list()) == []


def test_a_server_that_cannot_start_reports_its_log(project, tmp_path):
    from kepler.api import DeploymentError

    broken = tmp_path / "not-a-model"
    broken.mkdir()
    (broken / "kepler-model.json").write_text("{}")
    with pytest.raises((DeploymentError, kp.KeplerError)):
        kp.deploy.to_local(str(broken))




def test_workers_option_starts_the_server_with_that_many_workers(local_project, kepler_cli):
    created = kepler_cli("deploy", "pump-failure", "--target", "local", "-o", "workers=2",
                         "--json")
    assert created.code == 0, created.err
    deployment = json.loads(created.out)
    pid, url = deployment["details"]["pid"], deployment["url"]
    workers = {int(p) for task in Path(f"/proc/{pid}/task").iterdir()
               for p in (task / "children").read_text().split()}
    assert len(workers) >= 2  # two workers (and multiprocessing's resource tracker)
    logged = "\n".join(kp.deploy.logs("pump-failure"))
    assert "--workers 2" in logged and "2 worker processes" in logged
    body = json.dumps({"instances": [instance(), instance(temperature=80.0)]}).encode()
    for _ in range(6):  # a fresh connection each time
        request = urllib.request.Request(f"{url}/predict", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as reply:
            assert reply.status == 200
    with urllib.request.urlopen(f"{url}/metadata", timeout=10) as reply:
        serving = json.loads(reply.read())["serving"]
    assert serving["workers"] == 2 and serving["worker"] in workers
    assert serving["requests"] == 6 and serving["rows"] == 12  # totals across the workers
    assert kepler_cli("deploy", "delete", "pump-failure").code == 0
    # delete returns once the server has exited; multiprocessing's resource tracker (one of the
    # children) exits on its own a moment later, when it reads the end of its pipe
    deadline = time.monotonic() + 15
    while any(_pid_alive(p) for p in {pid, *workers}) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_pid_alive(p) for p in {pid, *workers})


def test_workers_option_must_be_a_count(local_project):
    from kepler.api import DeploymentError

    with pytest.raises(DeploymentError, match="workers="):
        kp.deploy.to_local("pump-failure", workers="many")
