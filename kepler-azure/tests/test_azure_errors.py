"""ARM errors become KeplerErrors with hints: 403 AuthorizationFailed, 409, 429 (retried with
Retry-After, then a quota error), missing credentials, subscription or environment, a failed
ACR build; the fake itself refuses unknown fields and wrong api-versions."""

from __future__ import annotations

import pytest
from azure_helpers import APP, IMAGE
from kepler.api import ConfigError, deployer, namespace
from kepler_azure import errors

APPS = r"/containerApps/pump-failure-dev$"


def test_authorization_failed_is_a_permission_error_with_a_hint(fake, model, kepler_cli):
    fake.fail("PUT", APPS, 403, message="The client 'ci' does not have authorization to "
              "perform action 'Microsoft.App/containerApps/write'.")
    result = kepler_cli("deploy", str(model), "--target", "azure", "-o", f"image={IMAGE}")
    assert result.code == 7
    assert "Permission denied while deploying container app pump-failure-dev" in result.err
    assert "AuthorizationFailed" in result.err and "kepler config validate" in result.err


def test_conflict_is_a_conflict_error(fake, model):
    fake.fail("PUT", APPS, 409, message="Another operation is in progress.")
    with pytest.raises(errors.AzureConflictError, match="in progress") as caught:
        deployer("azure").create("pump-failure", str(model), {"image": IMAGE})
    assert "Update it instead" in caught.value.hint


def test_429_is_retried_after_retry_after_then_becomes_a_quota_error(fake, model,
                                                                    monkeypatch):
    import time

    from kepler_azure import clients

    fake.fail("PUT", APPS, 429, times=1, retry_after=1)
    started = time.monotonic()
    dep = namespace("deploy").to_azure(model, image=IMAGE)
    assert dep.status == "running" and time.monotonic() - started >= 1
    assert len(fake.calls("PUT", "/containerApps/")) == 2  # the SDK honoured Retry-After
    monkeypatch.setitem(clients.TEST_WIRING, "client_kwargs", {
        **clients.TEST_WIRING["client_kwargs"], "retry_total": 2,
        "retry_backoff_factor": 0.01})
    fake.fail("GET", APPS, 429, times=50, retry_after=0)
    with pytest.raises(errors.AzureQuotaError, match="rate limit") as caught:
        deployer("azure").status("pump-failure")
    assert "quota" in caught.value.hint


def test_missing_credentials_are_reported_with_the_chain(fake, model, monkeypatch):
    from azure.core.exceptions import ClientAuthenticationError
    from kepler_azure import clients

    class NoCredential:
        def get_token(self, *scopes, **kwargs):
            raise ClientAuthenticationError("DefaultAzureCredential failed to retrieve a token "
                                            "from the included credentials.")

        get_token_info = get_token

    wiring = {**clients.TEST_WIRING, "credential": NoCredential()}
    from kepler_azure._fake_auth import http_bearer_policy
    wiring["client_kwargs"] = {"authentication_policy": http_bearer_policy(
        NoCredential(), ["https://management.azure.com/.default"])}
    monkeypatch.setattr(clients, "TEST_WIRING", wiring)
    with pytest.raises(errors.AzureCredentialsError, match="No usable Azure credentials") as c:
        deployer("azure").create("pump-failure", str(model), {"image": IMAGE})
    assert "az login" in c.value.hint


def test_missing_subscription_and_environment(fake, model, monkeypatch, kepler_cli):
    fake.resources.clear()  # no managed environment
    result = kepler_cli("deploy", str(model), "--target", "azure", "-o", f"image={IMAGE}")
    assert result.code == 7 and "ManagedEnvironmentNotFound" in result.err
    assert "kepler azure provision" in result.err
    monkeypatch.setenv("KEPLER_AZURE__SUBSCRIPTION", "")
    with pytest.raises(ConfigError, match="azure.subscription is not set"):
        deployer("azure").create("pump-failure", str(model), {"image": IMAGE})
    assert namespace("deploy").list(target="azure") == []


def test_a_failed_acr_build(fake, model, tiny_context):
    fake.fail_next_build("Step 3/7: pip install failed")
    with pytest.raises(errors.AzureBuildError, match="pip install failed") as caught:
        namespace("deploy").to_azure(model)
    assert "az acr task logs" in caught.value.hint
    assert APP not in fake.apps


def test_a_missing_registry_setting_asks_for_one(fake, model, monkeypatch):
    monkeypatch.setenv("KEPLER_AZURE__REGISTRY", "")
    with pytest.raises(errors.AzureConfigError, match="azure.registry is not set"):
        deployer("azure").create("pump-failure", str(model), {})


def test_hec_token_needs_a_vault(fake, model, monkeypatch):
    from kepler.api import DeploymentError

    monkeypatch.setenv("KEPLER_AZURE__HEC_TOKEN_SECRET", "kepler-hec-token")
    with pytest.raises(DeploymentError, match="never passed as a value"):
        deployer("azure").create("pump-failure", str(model), {"image": IMAGE})


def test_the_fake_refuses_unknown_fields_and_wrong_api_versions(azure_fake):
    from azure.core.exceptions import HttpResponseError
    from kepler_azure.clients import Azure
    from kepler_azure.config import AzureSettings

    azure_fake.seed_environment("s", "g")
    azure = Azure(AzureSettings(subscription="s", resource_group="g",
                                arm_endpoint=azure_fake.url, poll_interval=0))
    body = {"location": "westeurope", "properties": {"managedEnvironmentId": "x",
                                                     "templat": {}}}
    with pytest.raises(HttpResponseError, match="Could not find member 'templat'"):
        azure.apps().container_apps.begin_create_or_update("g", "a", body)
    with pytest.raises(HttpResponseError, match="InvalidApiVersionParameter"):
        azure.raw("GET", "/subscriptions/s/resourceGroups/g/providers/Microsoft.App/"
                  "containerApps/a", "aci")
    assert errors.translate(ValueError("boom"), "testing").hint.startswith("Rerun")


def test_the_sdks_refuse_http_without_the_test_wiring(azure_fake, monkeypatch):
    from azure.core.exceptions import ServiceRequestError
    from kepler_azure import clients
    from kepler_azure._fake_auth import FakeCredential
    from kepler_azure.config import AzureSettings

    monkeypatch.setattr(clients, "TEST_WIRING", {"credential": FakeCredential(),
                                                 "client_kwargs": {"retry_total": 0}})
    azure = clients.Azure(AzureSettings(subscription="s", arm_endpoint=azure_fake.url))
    with pytest.raises(ServiceRequestError, match="non-TLS"):
        azure.resources().resource_groups.get("g")
