"""The environment managers kepler-env contributes (each a ``kepler.protocols.EnvManager``)."""
