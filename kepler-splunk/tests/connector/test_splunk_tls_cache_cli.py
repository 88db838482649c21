"""HTTPS with and without verification, the results cache, the CLI and config validate."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import kepler as kp
import pandas as pd
import pytest
from kepler_splunk import errors
from splunk_helpers import point_kepler_at

NOW = datetime.now(UTC).replace(microsecond=0)


def rows(count=30, hours=False):
    step = timedelta(hours=1) if hours else timedelta(seconds=1)
    return pd.DataFrame({"_time": [NOW - step * (i + 1) for i in range(count)],
                         "asset_id": [f"P-{i % 3}" for i in range(count)],
                         "temperature": [50.0 + i for i in range(count)]})


@pytest.fixture
def tls(splunk_server_https, monkeypatch):
    point_kepler_at(splunk_server_https, monkeypatch)
    monkeypatch.delenv("KEPLER_SPLUNK__CA_FILE", raising=False)  # each test decides
    splunk_server_https.add_index("pumps", rows())
    return splunk_server_https


def test_https_verified_against_the_servers_ca(tls, monkeypatch):
    monkeypatch.setenv("KEPLER_SPLUNK__CA_FILE", tls.ca_file)
    assert len(kp.data.from_splunk("index=pumps", earliest="-1h", progress=False)) == 30


def test_https_untrusted_certificate_is_a_tls_error_with_a_hint(tls, monkeypatch):
    monkeypatch.delenv("KEPLER_SPLUNK__CA_FILE", raising=False)
    with pytest.raises(errors.SplunkTLSError) as info:
        kp.data.from_splunk("index=pumps", earliest="-1h", progress=False)
    assert "CERTIFICATE_VERIFY_FAILED" in info.value.message
    assert "splunk.ca_file" in info.value.hint and "verify: false" in info.value.hint


def test_https_without_verification(tls, monkeypatch):
    monkeypatch.setenv("KEPLER_SPLUNK__VERIFY", "false")
    assert len(kp.data.from_splunk("index=pumps", earliest="-1h", progress=False)) == 30


def test_a_missing_ca_file_is_a_config_error(tls, monkeypatch, tmp_path):
    monkeypatch.setenv("KEPLER_SPLUNK__CA_FILE", str(tmp_path / "nope.pem"))
    with pytest.raises(kp.KeplerError, match="splunk.ca_file") as info:
        kp.data.from_splunk("index=pumps")
    assert info.value.exit_code == 3


def test_past_ranges_are_cached_and_reused(splunk, tmp_path, kepler_cli):
    splunk.add_index("pumps", rows(48, hours=True))
    first = kp.data.from_splunk("index=pumps", earliest="-24h@h", latest="-1h@h", cache=True,
                                progress=False)
    assert first.attrs["cache"] == "stored"
    created = len(splunk.requests_to(r"jobs$", method="POST"))
    second = kp.data.from_splunk("index=pumps", earliest="-24h@h", latest="-1h@h", cache=True,
                                 progress=False)
    assert second.attrs["cache"] == "hit"
    assert len(splunk.requests_to(r"jobs$", method="POST")) == created  # no new search
    pd.testing.assert_frame_equal(first, second)
    # the search sent absolute bounds, so the cached rows match the key exactly
    sent = splunk.requests_to(r"jobs$", method="POST")[-1].params
    assert float(sent["earliest_time"]) and float(sent["latest_time"])
    listing = kepler_cli("data", "cache", "list", "--json")
    [entry] = json.loads(listing.out)
    assert entry["spl"] == "search index=pumps" and entry["rows"] == len(first)
    assert kepler_cli("data", "cache", "clear").out.startswith("Removed 1 cached result")
    third = kp.data.from_splunk("index=pumps", earliest="-24h@h", latest="-1h@h", cache=True,
                                progress=False)
    assert third.attrs["cache"] == "stored"


def test_ranges_reaching_now_are_never_cached(splunk):
    splunk.add_index("pumps", rows())
    frame = kp.data.from_splunk("index=pumps", earliest="-1h", cache=True, progress=False)
    assert "cache" not in frame.attrs


def test_cache_from_config(splunk, monkeypatch):
    monkeypatch.setenv("KEPLER_SPLUNK__CACHE", "true")
    splunk.add_index("pumps", rows(10, hours=True))
    kp.data.from_splunk("index=pumps", earliest="-12h@h", latest="-2h@h", progress=False)
    again = kp.data.from_splunk("index=pumps", earliest="-12h@h", latest="-2h@h", progress=False)
    assert again.attrs["cache"] == "hit"



def test_cli_preview_and_out(splunk, kepler_cli, tmp_path):
    splunk.add_index("pumps", rows(25))
    preview = kepler_cli("data", "splunk", "index=pumps", "--earliest", "-1h", "--head", "3")
    assert preview.code == 0, preview.err
    assert "25 rows" in preview.out and "temperature" in preview.out
    out = tmp_path / "pumps.parquet"
    written = kepler_cli("data", "splunk", "index=pumps", "--earliest", "-1h", "--out", str(out))
    assert written.code == 0 and len(pd.read_parquet(out)) == 25
    bad = kepler_cli("data", "splunk", "| nosuchcommand")
    assert bad.code == 7 and "Unknown search command" in bad.err and "Hint:" in bad.err


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_zero_rows_to_a_file_is_exit_8_and_names_a_missing_index(splunk, kepler_cli, tmp_path,
                                                                 suffix):
    """An empty file with exit 0 looked like data: now a warning (naming an index that does
    not exist) and exit code 8, unless --allow-empty."""
    splunk.add_index("pumps", rows(25))
    out = tmp_path / f"empty{suffix}"
    typo = kepler_cli("data", "splunk", "index=pumsp", "--earliest", "-1h", "--out", str(out))
    assert typo.code == 8, typo.err
    assert "index 'pumsp' does not exist" in typo.err and "--allow-empty" in typo.err
    nothing = kepler_cli("data", "splunk", "index=pumps | where temperature > 1000", "--earliest", "-1h",
                         "--out", str(out), "--allow-empty")
    assert nothing.code == 0 and "holds no rows" in nothing.err and "does not exist" not in nothing.err
    some = kepler_cli("data", "splunk", "index=pumps", "--earliest", "-1h", "--out", str(out))
    assert some.code == 0 and "Wrote" in some.out


def test_validate_reports_server_credentials_and_capabilities(splunk, kepler_cli, monkeypatch):
    result = kepler_cli("config", "validate", "--json")
    checks = {c["check"]: c for c in json.loads(result.out) if c["plugin"] == "splunk"}
    assert checks["splunk: server answers, credentials accepted"]["status"] == "pass"
    assert "Splunk 9." in checks["splunk: server answers, credentials accepted"]["detail"]
    assert checks["splunk: may run searches"]["status"] == "pass"
    assert checks["splunk: may list indexes"]["status"] == "pass"

    splunk.add_user("analyst", "pw-analyst", capabilities=["search"])
    monkeypatch.delenv("KEPLER_SPLUNK__TOKEN")
    monkeypatch.setenv("KEPLER_SPLUNK__USERNAME", "analyst")
    monkeypatch.setenv("KEPLER_SPLUNK__PASSWORD", "pw-analyst")
    result = kepler_cli("config", "validate", "--json")
    assert result.code == 6
    checks = {c["check"]: c for c in json.loads(result.out) if c["plugin"] == "splunk"}
    assert checks["splunk: may list indexes"]["status"] == "fail"
    assert "'indexes_list_all'" in checks["splunk: may list indexes"]["hint"]

    monkeypatch.setenv("KEPLER_SPLUNK__PASSWORD", "wrong")
    result = kepler_cli("config", "validate", "--json")
    checks = {c["check"]: c for c in json.loads(result.out) if c["plugin"] == "splunk"}
    failed = checks["splunk: server answers, credentials accepted"]
    assert failed["status"] == "fail" and "Login failed" in failed["detail"]


def test_validate_skips_splunk_when_unconfigured(kepler_cli):
    checks = json.loads(kepler_cli("config", "validate", "--json").out)
    [check] = [c for c in checks if c["plugin"] == "splunk"]
    assert check["status"] == "skip"


def test_config_show_masks_the_token(splunk, kepler_cli):
    out = kepler_cli("config", "show").out
    assert "splunk.token" in out and splunk.token not in out


def test_validate_checks_hec_health_and_token(splunk, kepler_cli, monkeypatch):
    """A wrong HEC token used to pass 'config validate' and fail at the first write."""
    if not getattr(splunk, "hec_url", None):
        pytest.skip("this test server runs no HEC")
    result = kepler_cli("config", "validate", "--json")
    checks = {c["check"]: c for c in json.loads(result.out) if c["plugin"] == "splunk"}
    assert checks["splunk: HEC answers and is healthy"]["status"] == "pass"
    assert checks["splunk: HEC token accepted"]["status"] == "pass"
    before = splunk.hec_stats.events_indexed
    monkeypatch.setenv("KEPLER_SPLUNK__HEC_TOKEN", "00000000-0000-0000-0000-000000000000")
    wrong = kepler_cli("config", "validate", "--json")
    assert wrong.code == 6
    checks = {c["check"]: c for c in json.loads(wrong.out) if c["plugin"] == "splunk"}
    assert checks["splunk: HEC token accepted"]["status"] == "fail"
    assert "not valid" in checks["splunk: HEC token accepted"]["detail"]
    assert splunk.hec_stats.events_indexed == before  # the token check indexes nothing
