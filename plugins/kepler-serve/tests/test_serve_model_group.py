"""A model group (one model per pump, kepler-tabular's ``per_group``) goes through the same
deploy path as a single model: the local deployer serves it over HTTP with routing by the group
field, and the container build context carries every member (issue 20)."""

from __future__ import annotations

import kepler as kp
import pytest


@pytest.fixture
def group(project, sensors):
    """One small forest per pump, saved to the registry (trained on the local executor)."""
    return kp.train.per_group(sensors.drop(columns=["failure"]), by="pump",
                              algorithm="random_forest", target="efficiency", n_estimators=5,
                              name="efficiency-per-pump", save=True)


def test_the_local_deployer_serves_a_model_group_with_routing(group, sensors):
    deployment = kp.deploy.to_local(group.name)
    try:
        rows = sensors.drop(columns=["failure", "efficiency"]).groupby("pump").head(2)
        answer = kp.deploy.predict(deployment.name, rows)
        assert answer["model"] == "efficiency-per-pump" and answer["version"] == 1
        expected = kp.models.load(group.name).predict(rows)
        assert answer["predictions"] == pytest.approx(list(expected))
        for (_, row), predicted in zip(rows.iterrows(), answer["predictions"], strict=True):
            member = kp.models.load(group.name).predictor.member(row["pump"])
            alone = row.drop(labels=["pump"]).to_frame().T.infer_objects()
            assert predicted == pytest.approx(float(member.predict(alone)[0]))
        unknown = rows.head(1).assign(pump="pump-77")
        with pytest.raises(kp.KeplerError, match="pump"):
            kp.deploy.predict(deployment.name, unknown)
    finally:
        kp.deploy.delete(deployment.name)


def test_the_build_context_of_a_model_group_holds_every_member(group, kepler_cli, tmp_path):
    out = tmp_path / "ctx"
    built = kepler_cli("deploy", "build", group.name, "--target", "local", "--out", str(out))
    assert built.code == 0, built.err
    manifests = sorted(p.parent.name for p in out.rglob("kepler-model.json"))
    pumps = sorted(kp.models.load(group.name).predictor.members)
    assert len(manifests) == len(pumps) + 1  # the group itself and one per member
    assert (out / "Dockerfile").is_file()
