"""kepler config validate: the credential chain, subscription access, role assignments."""

from __future__ import annotations

from kepler.api import load_config
from kepler_azure.validate import allowed, checks


def results(**env):
    return {r.check: r for r in checks(load_config(**env))}


def test_everything_passes_with_full_access(fake):
    found = results()
    assert found["azure: credentials"].status == "pass"
    assert found["azure: subscription sub-dev"].status == "pass"
    assert found["azure: role assignments to deploy"].status == "pass"
    assert found["azure: role assignments to provision"].status == "pass"


def test_missing_actions_are_named(fake):
    fake.actions = ["Microsoft.App/*", "Microsoft.ContainerInstance/*"]
    fake.not_actions = ["Microsoft.App/containerApps/delete"]
    found = results()
    deploy = found["azure: role assignments to deploy"]
    assert deploy.status == "fail"
    assert "Microsoft.App/containerApps/delete" in deploy.detail
    assert "Microsoft.ContainerRegistry/registries/scheduleRun/action" in deploy.detail
    assert "Contributor" in deploy.hint


def test_subscription_missing_and_skip_without_one(fake, monkeypatch):
    fake.missing_subscriptions.add("sub-dev")
    found = results()
    assert found["azure: subscription sub-dev"].status == "fail"
    assert "SubscriptionNotFound" in found["azure: subscription sub-dev"].detail
    monkeypatch.setenv("KEPLER_AZURE__SUBSCRIPTION", "")
    assert results()["azure: subscription"].status == "skip"


def test_no_credentials_stop_the_checks(fake, monkeypatch):
    from azure.core.exceptions import ClientAuthenticationError
    from kepler_azure import clients

    class NoCredential:
        def get_token(self, *scopes, **kwargs):
            raise ClientAuthenticationError("EnvironmentCredential: not configured; "
                                            "AzureCliCredential: az not found")

    monkeypatch.setitem(clients.TEST_WIRING, "credential", NoCredential())
    found = results()
    assert found["azure: credentials"].status == "fail"
    assert "az login" in found["azure: credentials"].hint
    assert len(found) == 1


def test_wildcards_and_not_actions():
    grants = [{"actions": ["*"], "notActions": ["Microsoft.Authorization/*/write"]}]
    assert allowed("Microsoft.App/containerApps/write", grants)
    assert not allowed("Microsoft.Authorization/roleAssignments/write", grants)


def test_kepler_config_validate_shows_the_checks(fake, kepler_cli):
    result = kepler_cli("config", "validate")
    assert "azure: role assignments to deploy" in result.out


def test_a_refused_permissions_read_fails_the_role_check(fake):
    fake.fail("GET", r"/Microsoft\.Authorization/permissions$", 403)
    check = results()["azure: role assignments"]
    assert check.status == "fail" and "AuthorizationFailed" in check.detail
