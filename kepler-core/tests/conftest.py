import pytest


@pytest.fixture(autouse=True)
def _isolated(kepler_home):
    """Every core test runs in its own Kepler home and working directory."""
    return kepler_home
