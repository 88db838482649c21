"""The official client, splunk-sdk (``splunklib``), must not tell the test server from Splunk."""

from __future__ import annotations

import ssl
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from kepler_splunk_testing import SplunkTestServer, generate_sensor_data

client = pytest.importorskip("splunklib.client")
binding = pytest.importorskip("splunklib.binding")
results_module = pytest.importorskip("splunklib.results")


def connect(server: SplunkTestServer, **kwargs: Any) -> Any:
    options: dict[str, Any] = {
        "host": server.host,
        "port": server.port,
        "scheme": server.scheme,
        "autologin": True,
    }
    if "splunkToken" not in kwargs and "token" not in kwargs:
        options.update(username=server.username, password=server.password)
    options.update(kwargs)
    return client.connect(**options)


def wait(job: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while not job.is_done():
        assert time.monotonic() < deadline, "job did not finish"
        time.sleep(0.01)
    return job


def read_json(stream: Any) -> tuple[list[dict[str, Any]], list[Any]]:
    rows, messages = [], []
    for item in results_module.JSONResultsReader(stream):
        if isinstance(item, dict):
            rows.append(item)
        else:
            messages.append(item)
    return rows, messages


def sequential_events(rows: int) -> pd.DataFrame:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    return pd.DataFrame(
        {
            "_time": [start + timedelta(seconds=i) for i in range(rows)],
            "n": range(rows),
        }
    )


@pytest.fixture
def service(splunk_server: SplunkTestServer) -> Any:
    splunk_server.add_index("pumps", generate_sensor_data(500))
    return connect(splunk_server)


def test_login_sets_a_session_cookie_and_reads_server_info(
    splunk_server: SplunkTestServer, service: Any
) -> None:
    assert service.info["version"] == "9.3.0"
    assert service.splunk_version == (9, 3, 0)
    assert not service.disable_v2_api
    assert f"splunkd_{splunk_server.port}" in service.http._cookies
    assert splunk_server.requests_to(r"^auth/login$")[0].params["password"] == "********"


def test_bad_password_raises_authentication_error(splunk_server: SplunkTestServer) -> None:
    with pytest.raises(binding.AuthenticationError) as error:
        connect(splunk_server, password="wrong")
    assert b"Login failed" in error.value.body


def test_token_authentication(splunk_server: SplunkTestServer) -> None:
    splunk_server.add_index("pumps", generate_sensor_data(10))
    service = connect(splunk_server, splunkToken=splunk_server.token)
    assert service.info["version"] == "9.3.0"
    assert "pumps" in [index.name for index in service.indexes]
    assert not splunk_server.requests_to("auth/login")


def test_session_key_authentication(splunk_server: SplunkTestServer) -> None:
    key = connect(splunk_server).token  # "Splunk <key>"
    service = connect(splunk_server, token=key)
    assert service.info["version"] == "9.3.0"


def test_autologin_recovers_from_an_expired_session(
    splunk_server: SplunkTestServer, service: Any
) -> None:
    splunk_server.expire_sessions()
    assert service.indexes["pumps"]["datatype"] == "event"
    statuses = [r.status for r in splunk_server.requests]
    assert 401 in statuses and len(splunk_server.requests_to("auth/login")) == 2


def test_job_lifecycle_and_json_results(splunk_server: SplunkTestServer, service: Any) -> None:
    job = service.jobs.create("search index=pumps | head 7")
    assert not job.is_done() or splunk_server.settings.dispatch_delay == 0
    wait(job)
    assert job["dispatchState"] == "DONE"
    assert job["resultCount"] == "7"
    assert job["isFailed"] == "0"
    rows, messages = read_json(job.results(output_mode="json"))
    assert len(rows) == 7 and not messages
    first = rows[0]
    assert set(first) >= {"_time", "asset_id", "_bkt", "_cd", "_si", "_serial", "splunk_server"}
    assert all(isinstance(value, (str, list)) for row in rows for value in row.values())
    times = [row["_time"] for row in rows]
    assert times == sorted(times, reverse=True)  # newest first, like Splunk events
    assert splunk_server.requests_to(r"v2/jobs/[^/]+/results$", method="POST")


def test_pagination_returns_every_row_once_in_order(splunk_server: SplunkTestServer) -> None:
    splunk_server.add_index("seq", sequential_events(120_001))
    service = connect(splunk_server)
    job = wait(service.jobs.create("search index=seq", earliest_time="0", latest_time="now"))
    total = int(job["resultCount"])
    assert total == 120_001
    seen: list[int] = []
    offset, page_size = 0, 50_000
    while offset < total:
        rows, _ = read_json(job.results(output_mode="json", count=page_size, offset=offset))
        assert len(rows) <= 50_000
        seen.extend(int(row["n"]) for row in rows)
        offset += page_size
    assert seen == list(range(120_000, -1, -1))
    assert len(splunk_server.requests_to(r"jobs/[^/]+/results$")) == 3


def test_count_zero_is_capped_by_max_result_rows(splunk_server_factory: Any) -> None:
    server = splunk_server_factory(max_result_rows=1_000)
    server.add_index("seq", sequential_events(2_500))
    job = wait(connect(server).jobs.create("search index=seq"))
    rows, _ = read_json(job.results(output_mode="json", count=0))
    assert len(rows) == 1_000
    rows, _ = read_json(job.results(output_mode="json"))
    assert len(rows) == 100  # the silent default that truncates naive clients


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_oneshot(service: Any) -> None:
    rows, _ = read_json(service.jobs.oneshot("search index=pumps | head 3", output_mode="json"))
    assert len(rows) == 3
    reader = results_module.ResultsReader(service.jobs.oneshot("search index=pumps | head 2"))
    xml_rows = [row for row in reader if isinstance(row, dict)]
    assert len(xml_rows) == 2 and reader.is_preview is False


def test_export_skips_previews(splunk_server: SplunkTestServer, service: Any) -> None:
    frame = pd.DataFrame({"site": ["a", "b", "c", "d"], "count": [1, 2, 3, 4]})
    splunk_server.add_search(r"\|\s*tstats", frame, preview_sets=2)
    export = service.jobs.export("| tstats count by site", output_mode="json")
    raw = list(results_module.JSONResultsReader(export))
    previewed = [row for row in raw if isinstance(row, dict)]
    assert len(previewed) > 4  # a naive reader sees preview rows too
    stream = service.jobs.export("| tstats count by site", output_mode="json")
    reader = results_module.JSONResultsReader(stream)
    final = [row for row in reader if isinstance(row, dict) and not reader.is_preview]
    assert [row["site"] for row in final] == ["a", "b", "c", "d"]
    no_preview = service.jobs.export("| tstats count by site", output_mode="json", preview=False)
    assert len(read_json(no_preview)[0]) == 4


def test_export_of_events(service: Any) -> None:
    rows, _ = read_json(service.jobs.export("search index=pumps | head 120", output_mode="json"))
    assert len(rows) == 120
    assert len({row["_cd"] for row in rows}) == 120


def test_cancel_removes_the_job(splunk_server: SplunkTestServer, service: Any) -> None:
    job = service.jobs.create("search index=pumps")
    sid = job.sid
    job.cancel()
    assert sid not in splunk_server.job_ids()
    assert splunk_server.requests_to(rf"jobs/{sid}/control$")[-1].params["action"] == "cancel"
    with pytest.raises(binding.HTTPError) as error:
        job.refresh()
    assert error.value.status == 404 and "Unknown sid." in str(error.value)
    job.cancel()  # cancelling twice is a no-op for splunklib (it ignores the 404)


def test_control_actions(service: Any) -> None:
    job = service.jobs.create("search index=pumps")
    job.pause()
    assert job.refresh()["isPaused"] in ("0", "1")
    job.unpause().touch().set_ttl(1200)
    wait(job)
    assert int(job["ttl"]) > 600
    job.finalize()
    assert job.refresh()["isDone"] == "1"


def test_finalize_stops_with_partial_results(splunk_server_factory: Any) -> None:
    server = splunk_server_factory(dispatch_delay=30)
    server.add_index("seq", sequential_events(1_000))
    service = connect(server)
    job = service.jobs.create("search index=seq")
    time.sleep(0.05)
    job.finalize()
    wait(job, timeout=2)
    assert job["isFinalized"] == "1"
    assert int(job["resultCount"]) < 1_000


def test_indexes_listing(splunk_server: SplunkTestServer, service: Any) -> None:
    splunk_server.add_index("metrics_pumps", None, datatype="metric")
    names = [index.name for index in service.indexes]
    assert "pumps" in names and "main" in names and "metrics_pumps" not in names
    metric = [index.name for index in service.indexes.list(datatype="metric")]
    assert "metrics_pumps" in metric and "pumps" not in metric
    pumps = service.indexes["pumps"]
    assert pumps["totalEventCount"] == "500"
    assert pumps["datatype"] == "event"
    assert service.indexes.get_default() == "main"


def test_bad_spl_raises_http_error_with_splunk_text(service: Any) -> None:
    with pytest.raises(binding.HTTPError) as error:
        service.jobs.create("index=pumps")
    assert error.value.status == 400
    assert "Unknown search command 'index'." in str(error.value)
    with pytest.raises(binding.HTTPError) as error:
        service.jobs.create("search index=pumps | nosuchcommand")
    assert "Unknown search command 'nosuchcommand'." in str(error.value)


def test_failed_after_dispatch(splunk_server: SplunkTestServer, service: Any) -> None:
    splunk_server.fail_search(r"index=broken", "Error in 'search' command: boom")
    job = wait(service.jobs.create("search index=broken"))
    assert job["isFailed"] == "1"
    assert job["dispatchState"] == "FAILED"
    assert job["messages"]["fatal"] == ["Error in 'search' command: boom"]


def test_v1_paths_for_splunk_8(splunk_server_factory: Any) -> None:
    server = splunk_server_factory(version="8.2.12")
    server.add_index("pumps", generate_sensor_data(50))
    service = connect(server)
    assert service.disable_v2_api
    job = wait(service.jobs.create("search index=pumps | head 5"))
    rows, _ = read_json(job.results(output_mode="json"))
    assert len(rows) == 5
    assert server.requests_to(r"^search/jobs/[^/]+/results$", method="GET")
    assert not server.requests_to(r"search/v2")


def test_v2_is_absent_below_9_0_2(splunk_server_factory: Any) -> None:
    server = splunk_server_factory(version="9.0.1")
    service = connect(server)
    with pytest.raises(binding.HTTPError) as error:
        service.get("/services/search/v2/jobs")
    assert error.value.status == 404


def test_https_without_verification(splunk_server_https: SplunkTestServer) -> None:
    splunk_server_https.add_index("pumps", generate_sensor_data(20))
    service = connect(splunk_server_https, verify=False)
    rows, _ = read_json(service.jobs.oneshot("search index=pumps", output_mode="json"))
    assert len(rows) == 20


def test_https_verified_against_the_generated_ca(splunk_server_https: SplunkTestServer) -> None:
    context = ssl.create_default_context(cafile=splunk_server_https.ca_file)
    service = connect(splunk_server_https, verify=True, context=context)
    assert service.info["version"] == "9.3.0"
    with pytest.raises(ssl.SSLError):
        connect(splunk_server_https, verify=True, context=ssl.create_default_context())


def test_namespaced_service(splunk_server: SplunkTestServer) -> None:
    splunk_server.add_index("pumps", generate_sensor_data(30))
    service = connect(splunk_server, owner="admin", app="search")
    job = wait(service.jobs.create("search index=pumps | head 4"))
    rows, _ = read_json(job.results(output_mode="json"))
    assert len(rows) == 4
    assert any(r.path.startswith("/servicesNS/admin/search/") for r in splunk_server.requests)


def test_job_listing(service: Any) -> None:
    job = service.jobs.create("search index=pumps | head 1")
    assert job.sid in [listed.sid for listed in service.jobs.list()]
