"""Each AWS failure becomes a KeplerError with a hint.

moto cannot produce these answers, so they are covered with ``botocore.stub.Stubber`` on the
real clients kepler-aws builds (the real botocore serializer validates each request, the real
parser reads each answer):

- ECS ``DescribeServices`` with a rollout that FAILED (deployment circuit breaker) or never
  completes, and ``ListTasks``/``DescribeTasks`` with a stopped task's reason: moto's services
  are either running at once or pending forever, and keep no stopped tasks;
- CodeBuild ``BatchGetBuilds`` for a FAILED build: moto reports every build SUCCEEDED;
- ``AccessDeniedException``, ``TooManyTargetGroups`` (limits): moto enforces neither IAM
  (by default) nor ELB quotas.

Throttling is the real thing: a local endpoint answers ``ThrottlingException`` and botocore's
standard retry mode retries it before the Kepler error is raised. Missing credentials are real
too (no credentials anywhere, instance metadata disabled).
"""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading

import pytest
from botocore.stub import Stubber
from kepler.api import load_config
from kepler_aws import services
from kepler_aws.clients import Aws
from kepler_aws.deployer import AwsDeployer
from kepler_aws.errors import (
    AwsBuildError,
    AwsCredentialsError,
    AwsLimitError,
    AwsPermissionError,
    AwsThrottlingError,
    ServiceNotStableError,
)
from kepler_aws.image import wait_build

SERVICE = "pump-failure-dev-blue"
STOPPED = "Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:" \
    "eu-west-1:123456789012:targetgroup/pump/abc)"


def service(rollout, reason="ECS deployment ecs-svc/1 in progress."):
    return {"serviceName": SERVICE, "status": "ACTIVE", "desiredCount": 1, "runningCount": 0,
            "deployments": [{"id": "ecs-svc/1", "status": "PRIMARY", "rolloutState": rollout,
                             "rolloutStateReason": reason}],
            "events": [{"id": "e1", "message": "(service pump) has started 1 tasks"}]}


def stub_stopped_task(stub):
    arn = "arn:aws:ecs:eu-west-1:123456789012:task/kepler/0123"
    stub.add_response("list_tasks", {"taskArns": [arn]},
                      {"cluster": "kepler", "serviceName": SERVICE, "desiredStatus": "STOPPED"})
    stub.add_response("describe_tasks", {"tasks": [{
        "taskArn": arn, "stoppedReason": STOPPED, "stoppedAt": dt.datetime(2026, 1, 1),
        "containers": [{"name": "model", "reason": "CannotPullContainerError: not found"}]}]},
        {"cluster": "kepler", "tasks": [arn]})


@pytest.fixture
def aws(moto):
    return Aws(load_config().section("aws"), env="dev")


def test_a_failed_rollout_names_the_stopped_tasks_reason(aws):
    ecs = aws.client("ecs")
    with Stubber(ecs) as stub:
        stub.add_response("describe_services", {"services": [service(
            "FAILED", "ECS deployment circuit breaker: tasks failed to start.")]},
            {"cluster": "kepler", "services": [SERVICE]})
        stub_stopped_task(stub)
        with pytest.raises(ServiceNotStableError) as caught:
            services.wait_stable(aws, SERVICE, name="pump-failure", doing="waiting")
        stub.assert_no_pending_responses()
    error = caught.value
    assert "circuit breaker rolled it back" in error.message
    assert STOPPED in error.message and "CannotPullContainerError" in error.message
    assert "kepler deploy logs pump-failure --target aws" in error.hint
    assert "listen on $PORT (8080)" in error.hint and error.exit_code == 7


def test_a_rollout_that_never_completes_times_out_with_the_reason(aws, monkeypatch):
    clock = iter([0.0, 1.0, 3.0])  # ready_timeout is 2 s (the aws_moto fixture)
    monkeypatch.setattr(services.time, "monotonic", lambda: next(clock))
    with Stubber(aws.client("ecs")) as stub:
        stub.add_response("describe_services", {"services": [service("IN_PROGRESS")]})
        stub.add_response("describe_services", {"services": [service("IN_PROGRESS")]})
        stub_stopped_task(stub)
        with pytest.raises(ServiceNotStableError, match="did not become stable within 2 s"):
            services.wait_stable(aws, SERVICE, name="pump-failure", doing="waiting")


def test_a_failed_codebuild_names_the_phase_and_the_log(aws):
    with Stubber(aws.client("codebuild")) as stub:
        stub.add_response("batch_get_builds", {"builds": [{
            "id": "kepler-image-build:1", "buildStatus": "FAILED", "currentPhase": "COMPLETED",
            "phases": [{"phaseType": "BUILD", "phaseStatus": "FAILED", "contexts": [
                {"statusCode": "COMMAND_EXECUTION_ERROR",
                 "message": "Error while executing command: docker build"}]}],
            "logs": {"deepLink": "https://console.aws.amazon.com/cloudwatch/build-1"}}]},
            {"ids": ["kepler-image-build:1"]})
        with pytest.raises(AwsBuildError) as caught:
            wait_build(aws, "kepler-image-build:1", "repo:pump-failure-v3")
    assert "FAILED in phase BUILD: Error while executing command" in caught.value.message
    assert caught.value.hint == "The build log: https://console.aws.amazon.com/cloudwatch/build-1"


def test_access_denied_through_the_cli(moto, aws, monkeypatch, kepler_cli):
    stub = Stubber(aws.client("ecs"))
    stub.add_client_error("describe_services", service_error_code="AccessDeniedException",
                          service_message="User: arn:aws:iam::123456789012:user/dev is not "
                          "authorized to perform: ecs:DescribeServices", http_status_code=400)
    stub.activate()
    monkeypatch.setattr(AwsDeployer, "_aws", lambda self, *a, **k: aws)
    result = kepler_cli("deploy", "status", "pump-failure", "--target", "aws")
    assert result.code == 7
    assert "Access denied while reading the services of pump-failure-dev" in result.err
    assert "not authorized to perform: ecs:DescribeServices" in result.err
    assert "'kepler config validate' names every missing action" in result.err
    stub.add_client_error("describe_services", service_error_code="AccessDeniedException")
    with pytest.raises(AwsPermissionError):
        AwsDeployer(load_config()).get("pump-failure")


def test_limits_become_a_limit_error(aws):
    from kepler_aws import specs

    with Stubber(aws.client("elbv2")) as stub:
        stub.add_client_error("create_target_group", service_error_code="TooManyTargetGroups",
                              service_message="You have reached the maximum number of target "
                              "groups", http_status_code=400)
        with pytest.raises(AwsLimitError, match="TooManyTargetGroups") as caught:
            aws.call("elbv2", "create_target_group", doing="creating target group t",
                     **specs.target_group("t", "vpc-1", {}))
    assert "Service Quotas" in caught.value.hint


def test_throttling_is_retried_in_standard_mode_then_reported(moto, monkeypatch):
    hits = []

    class Throttle(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            hits.append(self.headers["X-Amz-Target"])
            body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"})
            self.send_response(400)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Throttle)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("KEPLER_AWS__ENDPOINTS__ECS", f"http://127.0.0.1:"
                           f"{server.server_address[1]}")
        aws = Aws(load_config().section("aws"), env="dev")
        assert aws.client("ecs").meta.config.retries == {"mode": "standard",
                                                         "total_max_attempts": 2}
        assert aws.client("sts").meta.endpoint_url == moto.url  # the rest stays on moto
        with pytest.raises(AwsThrottlingError, match="after every retry") as caught:
            services.describe(aws, "pump-failure-dev")
    finally:
        server.shutdown()
    assert hits == ["AmazonEC2ContainerServiceV20141113.DescribeServices"] * 2
    assert "aws.max_attempts" in caught.value.hint


def test_no_credentials_at_all(moto, monkeypatch):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(AwsCredentialsError, match="No usable AWS credentials") as caught:
        AwsDeployer(load_config()).get("pump-failure")
    assert "aws sso login" in caught.value.hint


def test_boto3_native_endpoint_variables_are_honoured(moto, monkeypatch):
    monkeypatch.delenv("KEPLER_AWS__ENDPOINT_URL")
    monkeypatch.setenv("AWS_ENDPOINT_URL_ECS", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto.url)
    aws = Aws(load_config().section("aws"), env="dev")
    assert aws.client("ecs").meta.endpoint_url == "http://127.0.0.1:9"
    assert aws.client("sts").meta.endpoint_url == moto.url
    assert aws.account() == "123456789012"


def test_docker_is_used_only_where_one_answers(moto, model, tiny_context, monkeypatch,
                                               tmp_path):
    """No Docker engine here: auto picks CodeBuild, and builder=docker says what is missing."""
    from kepler.api import read_manifest
    from kepler_aws import image

    (tmp_path / "empty-path").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty-path"))  # no docker client at all
    assert image.docker_answers() is False
    monkeypatch.setenv("KEPLER_AWS__BUILDER", "auto")
    assert image.builder_for(Aws(load_config().section("aws"))) == "codebuild"
    monkeypatch.setenv("KEPLER_AWS__BUILDER", "docker")
    aws = Aws(load_config().section("aws"))
    with pytest.raises(AwsBuildError, match="no docker command is on PATH"):
        image.build_image(aws, model, read_manifest(model))
