import pytest


@pytest.fixture(autouse=True)
def _isolated(kepler_home):
    return kepler_home
