"""A cloud target's per-deployment options (plugin API 1.8): section fields override the
section, validated as it is; the target's own options pass through, canary as a percentage;
anything else is ignored with a warning naming what the target takes."""

from __future__ import annotations

import logging

import pytest
from kepler.api import DeploymentError, canary_percent, target_settings
from pydantic import BaseModel, Field

KNOWN = ("image", "canary", "port")


class Section(BaseModel):
    region: str = "europe-west1"
    min_instances: int = Field(default=0, ge=0)


def test_fields_override_the_section_and_options_pass_through():
    base = Section()
    settings, extra = target_settings(base, {"min_instances": "2", "image": "r/i:1",
                                             "canary": "15", "dry_run": True},
                                      target="cloud-run", section="gcp", known=KNOWN)
    assert settings == Section(min_instances=2) and base.min_instances == 0
    assert extra == {"image": "r/i:1", "canary": 15}


def test_an_invalid_field_value_names_the_field_and_the_section():
    with pytest.raises(DeploymentError, match=r"Invalid option for target aws: min_instances="
                       r"-1") as raised:
        target_settings(Section(), {"min_instances": -1}, target="aws", section="aws",
                        known=KNOWN)
    assert "aws section's fields" in raised.value.hint


def test_unknown_options_are_ignored_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="kepler.deployments"):
        settings, extra = target_settings(Section(), {"regoin": "x"}, target="azure",
                                          section="azure", known=KNOWN)
    assert settings == Section() and extra == {}
    [record] = [r for r in caplog.records if "ignores" in r.getMessage()]
    assert "regoin" in record.getMessage() and "image, canary, port" in record.getMessage()


@pytest.mark.parametrize(("given", "percent"), [(None, None), (10, 10), ("99", 99), ("1", 1)])
def test_canary_percentages(given, percent):
    assert canary_percent(given) == percent


@pytest.mark.parametrize("given", [0, 100, "ten", "5.5", -3])
def test_a_canary_that_is_not_a_percentage_says_what_to_give(given):
    with pytest.raises(DeploymentError, match="is not a percentage from 1 to 99") as raised:
        canary_percent(given)
    assert "--canary 10" in raised.value.hint
