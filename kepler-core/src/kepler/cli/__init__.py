"""The ``kepler`` command line."""
