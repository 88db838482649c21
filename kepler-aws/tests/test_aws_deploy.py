"""Create, update, status, list, logs, predict and delete against moto, through the SDK and
the generic ``kepler deploy`` CLI, with the real boto3."""

from __future__ import annotations

import json
import time

import pytest
from aws_helpers import DEV_IMAGE, REGION, push_image
from kepler.api import DeploymentNotFoundError, namespace
from kepler_aws.errors import AwsAlreadyExistsError, AwsImageNotFoundError
from kepler_aws.specs import cpu_for, size_memory, workers_for

SERVICE = "pump-failure-dev-blue"


def describe(moto, service=SERVICE, cluster="kepler", region=REGION):
    answer = moto.client("ecs", region).describe_services(cluster=cluster, services=[service],
                                                         include=["TAGS"])
    return answer["services"][0]


def task_definition(moto, arn, region=REGION):
    return moto.client("ecs", region).describe_task_definition(
        taskDefinition=arn, include=["TAGS"])


def test_sizing_follows_the_artifact():
    assert size_memory(1_000_000) == 512 and cpu_for(512) == 256
    assert size_memory(300 * 2**20) == 2048 and cpu_for(2048) == 1024
    assert size_memory(50 * 2**30) == 30720 and cpu_for(30720) == 4096


def test_create_with_a_pushed_image_through_the_cli(moto, provisioned, model, kepler_cli):
    image = push_image(moto, "pump-failure-v3")
    result = kepler_cli("deploy", str(model), "--target", "aws", "-o", f"image={image}",
                        "--json")
    assert result.code == 0, result.err
    answer = json.loads(result.out)
    assert (answer["name"], answer["target"], answer["model"], answer["version"],
            answer["status"]) == ("pump-failure", "aws", "pump-failure", "3", "running")
    [lb] = moto.client("elbv2").describe_load_balancers(Names=["kepler-dev"])["LoadBalancers"]
    assert answer["url"] == f"http://{lb['DNSName']}:8000"
    service = describe(moto)
    tags = {t["key"]: t["value"] for t in service["tags"]}
    assert tags["kepler-model"] == "pump-failure" and tags["kepler-version"] == "3"
    assert tags["kepler-role"] == "stable" and tags["managed-by"] == "kepler"
    assert service["launchType"] == "FARGATE"
    definition = task_definition(moto, service["taskDefinition"])
    td, td_tags = definition["taskDefinition"], definition["tags"]
    assert {"key": "kepler-version", "value": "3"} in td_tags
    assert td["requiresCompatibilities"] == ["FARGATE"] and td["networkMode"] == "awsvpc"
    assert (td["cpu"], td["memory"]) == ("256", "512")
    [container] = td["containerDefinitions"]
    assert container["image"] == image
    assert container["portMappings"][0]["containerPort"] == 8080
    assert "/health" in container["healthCheck"]["command"][-1]
    assert container["logConfiguration"]["options"]["awslogs-group"] == "/kepler/models"
    assert container["secrets"] == []
    # the listener of the deployment forwards everything to its target group (/ready checks)
    listener = moto.client("elbv2").describe_listeners(
        LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"][0]
    [group] = listener["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]
    assert group["TargetGroupArn"] == service["loadBalancers"][0]["targetGroupArn"]
    [tg] = moto.client("elbv2").describe_target_groups(
        TargetGroupArns=[group["TargetGroupArn"]])["TargetGroups"]
    assert tg["HealthCheckPath"] == "/ready" and tg["TargetType"] == "ip"
    # autoscaling: min/max and target tracking on requests per target and CPU
    scaling = moto.client("application-autoscaling")
    [target] = scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
    assert (target["ResourceId"], target["MinCapacity"], target["MaxCapacity"]) == \
        (f"service/kepler/{SERVICE}", 1, 3)
    policies = scaling.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]
    metrics = {p["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"][
        "PredefinedMetricType"]: p["TargetTrackingScalingPolicyConfiguration"]["TargetValue"]
        for p in policies}
    assert metrics == {"ALBRequestCountPerTarget": 100.0,
                       "ECSServiceAverageCPUUtilization": 60.0}
    again = kepler_cli("deploy", "create", str(model), "--target", "aws", "--name",
                       "pump-failure", "-o", f"image={image}")
    assert again.code != 0 and "exists already" in again.err


def test_create_builds_the_image_with_codebuild(moto, provisioned, model, tiny_context, sent):
    dep = namespace("deploy").to_aws(model)
    assert dep.status == "running" and dep.version == "3"
    assert len(tiny_context) == 1  # kepler-serve's context, zipped for CodeBuild
    bucket = "kepler-builds-123456789012-eu-west-1"
    [obj] = moto.client("s3").list_objects_v2(Bucket=bucket)["Contents"]
    assert obj["Key"].startswith("kepler/pump-failure-v3-") and obj["Key"].endswith(".zip")
    codebuild = moto.client("codebuild")
    [build_id] = codebuild.list_builds_for_project(projectName="kepler-image-build")["ids"]
    assert build_id.startswith("kepler-image-build:")
    [start] = [p for op, p in sent if op == "StartBuild"]  # moto keeps no overrides
    env = {e["name"]: e["value"] for e in start["environmentVariablesOverride"]}
    assert env["IMAGE_URI"] == DEV_IMAGE
    assert start["sourceLocationOverride"] == f"{bucket}/{obj['Key']}"
    assert "docker push $IMAGE_URI" in start["buildspecOverride"]
    container = task_definition(moto, describe(moto)["taskDefinition"])["taskDefinition"][
        "containerDefinitions"][0]
    assert container["image"] == DEV_IMAGE
    # moto's describe_services omits deploymentConfiguration: checked as sent
    [params] = [p for op, p in sent if op == "CreateService"]
    assert params["deploymentConfiguration"]["deploymentCircuitBreaker"] == \
        {"enable": True, "rollback": True}
    assert params["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"] == "ENABLED"


def test_an_image_missing_from_ecr_is_refused(moto, provisioned, model, kepler_cli):
    result = kepler_cli("deploy", str(model), "--target", "aws", "-o",
                        f"image={DEV_IMAGE.replace('-v3', '-v9')}")
    assert result.code == 7
    assert "is not in ECR" in result.err and "Hint:" in result.err
    assert moto.client("ecs").list_services(cluster="kepler")["serviceArns"] == []
    from kepler.api import deployer

    with pytest.raises(AwsImageNotFoundError):
        deployer("aws").create("pump-failure", str(model), {"image": DEV_IMAGE})


def test_hec_token_is_an_ecs_secret_never_an_environment_value(moto, model, kepler_cli,
                                                              monkeypatch):
    from kepler.api import secret_store

    secret_store().set("kepler-hec-token", "hec-secret-value")
    assert kepler_cli("aws", "provision", "--env", "prod").code == 0
    image = push_image(moto, "pump-failure-v3", region="us-east-1")
    dep = namespace("deploy").to_aws(model, env="prod", image=image)
    assert dep.status == "running"
    service = describe(moto, "pump-failure-prod-blue", "kepler-prod", "us-east-1")
    assert service["desiredCount"] == 2
    td = task_definition(moto, service["taskDefinition"], "us-east-1")["taskDefinition"]
    [container] = td["containerDefinitions"]
    arn = moto.client("secretsmanager", "us-east-1").describe_secret(
        SecretId="kepler-hec-token")["ARN"]
    assert container["secrets"] == [{"name": "KEPLER_SPLUNK__HEC_TOKEN", "valueFrom": arn}]
    names = {e["name"]: e["value"] for e in container["environment"]}
    assert "KEPLER_SPLUNK__HEC_TOKEN" not in names
    assert names["KEPLER_ENV"] == "prod" and names["KEPLER_SERVE__LOG_TO_SPLUNK"] == "true"
    assert "hec-secret-value" not in json.dumps(td, default=str)


def test_status_list_logs_and_delete(moto, provisioned, model, kepler_cli):
    image = push_image(moto, "pump-failure-v3")
    created = kepler_cli("deploy", str(model), "--target", "aws", "-o", f"image={image}")
    assert created.code == 0, created.err
    status = kepler_cli("deploy", "status", "pump-failure", "--json")
    assert status.code == 0, status.err
    details = json.loads(status.out)["details"]
    assert details["service"] == SERVICE and details["traffic"] == f"{SERVICE} 100%"
    assert "completed" in details["reason"]
    listed = json.loads(kepler_cli("deploy", "list", "--target", "aws", "--json").out)
    assert [d["name"] for d in listed["deployments"]] == ["pump-failure"]
    logs = moto.client("logs")
    stream = "pump-failure-dev/model/0123abcd"
    logs.create_log_stream(logGroupName="/kepler/models", logStreamName=stream)
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName="/kepler/models", logStreamName=stream,
                        logEvents=[{"timestamp": now + i, "message": f"line {i}"}
                                   for i in range(5)])
    out = kepler_cli("deploy", "logs", "pump-failure", "--lines", "2")
    assert out.code == 0, out.err
    assert out.out.splitlines()[-2:][0].endswith("line 3") and out.out.rstrip().endswith("line 4")
    deleted = kepler_cli("deploy", "delete", "pump-failure")
    assert deleted.code == 0, deleted.err
    assert describe(moto)["status"] != "ACTIVE"
    [lb] = moto.client("elbv2").describe_load_balancers(Names=["kepler-dev"])["LoadBalancers"]
    assert moto.client("elbv2").describe_listeners(
        LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"] == []
    assert moto.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs")["ScalableTargets"] == []
    from kepler.api import deployer

    with pytest.raises(DeploymentNotFoundError):
        deployer("aws").status("pump-failure")
    target = deployer("aws")
    target.create("pump-failure", str(model), {"image": image})
    with pytest.raises(AwsAlreadyExistsError):
        target.create("pump-failure", str(model), {"image": image})


def test_list_is_quiet_without_a_region(moto, tmp_path, monkeypatch, kepler_cli):
    (tmp_path / "pumps" / "kepler.yml").write_text("project: {name: pumps}\n")
    from kepler.api import deployer

    assert deployer("aws").list() == []
    assert kepler_cli("deploy", "list").err == ""


def test_predict_posts_to_the_load_balancer(moto, provisioned, model, monkeypatch):
    """moto's load balancers do not route; the URL is pointed at a local model server stand-in
    (the request is the deployer's own, urllib to <url>/predict)."""
    import http.server
    import threading

    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            seen.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            body = json.dumps({"predictions": [1]}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        namespace("deploy").to_aws(model, image="python:3.11")
        import kepler_aws.network as network

        real = network.load_balancer
        monkeypatch.setattr(network, "load_balancer", lambda aws: (real(aws)[0], "127.0.0.1"))
        monkeypatch.setattr("kepler_aws.deployer.network.load_balancer", network.load_balancer)
        from kepler.api import deployer

        target = deployer("aws")
        port = target.get("pump-failure").url.rsplit(":", 1)[-1]
        server_port = server.server_address[1]
        monkeypatch.setattr(target, "get", lambda name: type("D", (), {
            "url": f"http://127.0.0.1:{server_port}"})())
        assert port == "8000"
        assert target.predict("pump-failure", [{"t": 1}]) == {"predictions": [1]}
        assert seen == [{"instances": [{"t": 1}]}]
    finally:
        server.shutdown()


def _workers_env(moto, service=SERVICE):
    td = task_definition(moto, describe(moto, service)["taskDefinition"])["taskDefinition"]
    [container] = td["containerDefinitions"]
    return td["cpu"], [e["value"] for e in container["environment"]
                       if e["name"] == "KEPLER_SERVE__WORKERS"]


def test_the_server_gets_a_worker_per_vcpu_of_the_task(moto, provisioned, model):
    assert [workers_for(u) for u in (256, 512, 1024, 2048, 4096)] == [1, 1, 1, 2, 4]
    assert workers_for(4096, 3) == 3
    image = push_image(moto, "pump-failure-v3")
    namespace("deploy").to_aws(model, image=image)  # auto: 256 units, a quarter vCPU
    assert _workers_env(moto) == ("256", ["1"])
    namespace("deploy").to_aws(model, image=image, cpu=2048, memory=4096, replace=True)
    assert _workers_env(moto) == ("2048", ["2"])


def test_the_workers_setting_and_the_users_variable_win(moto, provisioned, model):
    image = push_image(moto, "pump-failure-v3")
    namespace("deploy").to_aws(model, image=image, cpu=2048, memory=4096, workers=3)
    assert _workers_env(moto) == ("2048", ["3"])
    namespace("deploy").to_aws(model, image=image, cpu=2048, memory=4096, replace=True,
                               env_vars={"KEPLER_SERVE__WORKERS": "1"})
    assert _workers_env(moto) == ("2048", ["1"])
