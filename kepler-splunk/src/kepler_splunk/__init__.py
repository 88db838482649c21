"""Kepler's Splunk connector: SPL searches to DataFrames, HEC writer, dashboards.

This package's root stays tiny on purpose: listing Kepler plugins imports it, and nothing heavy
(pandas, pyarrow, splunklib) may load at that point. Import the submodules you need, e.g.
``kepler_splunk.timemodifiers``. The Splunk-protocol test server is a distribution of its own,
kepler-splunk-testing (``kepler_splunk_testing``).
"""

__all__: list[str] = []
