"""Kepler's Splunk connector: SPL searches to DataFrames, HEC writer, dashboards, test server.

This package's root stays tiny on purpose: listing Kepler plugins imports it, and nothing heavy
(pandas, pyarrow, splunklib) may load at that point. Import the submodules you need, e.g.
``kepler_splunk.timemodifiers`` or ``kepler_splunk.testing``.
"""

__all__: list[str] = []
