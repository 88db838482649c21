"""Cloud Run through core's generic commands: kepler deploy ... --target cloud-run, with
--dry-run, --canary, promote and rollback (no special cases in core)."""

from __future__ import annotations

import json

from kepler.api import namespace

SERVICE = "projects/plant-dev/locations/europe-west1/services/pump-failure-dev"
LATEST = "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST"
REVISION = "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION"


def test_dry_run_through_kepler_deploy_sends_nothing(fake, model, kepler_cli):
    result = kepler_cli("deploy", str(model), "--target", "cloud-run", "--dry-run")
    assert result.code == 0, result.err
    assert fake.requests == []
    assert "dry run: not sent" in result.out
    assert "services?serviceId=pump-failure-dev" in result.out
    planned = json.loads(kepler_cli("deploy", str(model), "--target", "cloud-run",
                                    "--dry-run", "--json").out)
    assert [r["method"] for r in planned][-1] == "POST" and fake.requests == []
    assert kepler_cli("deploy", "list", "--json").out.count("pump-failure") == 0


def test_create_canary_promote_rollback_with_the_generic_commands(fake, model, model_v4,
                                                                 tiny_context, kepler_cli):
    created = kepler_cli("deploy", str(model), "--target", "cloud-run", "--json")
    assert created.code == 0, created.err
    first = json.loads(created.out)["details"]["revision"]
    canary = kepler_cli("deploy", "update", "pump-failure", str(model_v4), "--target",
                        "cloud-run", "--canary", "10", "--json")
    assert canary.code == 0, canary.err
    traffic = fake.services[SERVICE]["traffic"]
    new = traffic[0]["revision"]
    assert [(t.get("revision"), t["percent"]) for t in traffic] == [(new, 10), (first, 90)]

    promoted = kepler_cli("deploy", "promote", "pump-failure", "--target", "cloud-run")
    assert promoted.code == 0, promoted.err
    assert fake.services[SERVICE]["traffic"] == [{"type": LATEST, "percent": 100}]

    rolled = kepler_cli("deploy", "rollback", "pump-failure", "--target", "cloud-run", "--json")
    assert rolled.code == 0, rolled.err
    assert fake.services[SERVICE]["traffic"] == [
        {"type": REVISION, "revision": first, "percent": 100}]
    assert namespace("deploy").promote("pump-failure", new, target="cloud-run").status
    assert fake.services[SERVICE]["traffic"] == [{"type": LATEST, "percent": 100}]


def test_targets_without_revisions_say_so(kepler_cli, fake, model):
    result = kepler_cli("deploy", "rollback", "nothing-here", "--target", "local")
    assert result.code != 0
    assert "does not support rollback" in result.err
