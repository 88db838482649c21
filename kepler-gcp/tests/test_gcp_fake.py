"""kepler_gcp.testing on its own: the fake outside the fixture, with the client libraries."""

from __future__ import annotations

import socket

import pytest
from kepler_gcp.clients import Gcp
from kepler_gcp.config import GcpSettings
from kepler_gcp.testing import FakeGoogleCloud


def test_the_fake_serves_the_real_clients_and_stops():
    from google.api_core import exceptions as gexc
    from google.cloud import run_v2

    with FakeGoogleCloud() as fake:
        gcp = Gcp(GcpSettings(**fake.settings(project="p", region="r")))
        assert list(gcp.services().list_services(parent="projects/p/locations/r")) == []
        operation = gcp.services().create_service(
            parent="projects/p/locations/r", service_id="svc",
            service=run_v2.Service(template={"containers": [{"image": "img"}]}))
        assert operation.done() is False  # polled while done is false
        service = operation.result(timeout=5, polling=gcp.polling(5))
        assert service.uri.endswith("/_run/svc")
        assert service.latest_ready_revision.startswith("projects/p/locations/r/services/svc/"
                                                         "revisions/svc-00001-")
        with pytest.raises(gexc.Conflict):
            gcp.services().create_service(parent="projects/p/locations/r", service_id="svc",
                                          service=run_v2.Service(
                                              template={"containers": [{"image": "img"}]}))
        fake.fail("GET", r"/services/svc$", 503, times=1)
        fake.fail("GET", r"/services/svc$", 403, times=1)
        with pytest.raises(gexc.GoogleAPICallError):
            gcp.services().get_service(name="projects/p/locations/r/services/svc", retry=None)
        port = int(fake.url.rsplit(":", 1)[1])
    with pytest.raises(ConnectionRefusedError):  # stopped: nothing listens any more
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_settings_and_environ_point_every_api_at_the_fake():
    with FakeGoogleCloud() as fake:
        environ = fake.environ()
        assert environ["KEPLER_GCP__RUN_ENDPOINT"] == fake.url
        assert environ["KEPLER_GCP__ANONYMOUS"] == "true"
        assert {k for k in environ if k.endswith("_ENDPOINT")} == {
            f"KEPLER_GCP__{api}_ENDPOINT" for api in (
                "RUN", "BUILD", "STORAGE", "ARTIFACT", "SECRETS", "IAM", "RESOURCEMANAGER",
                "LOGGING")}
        assert fake.url.startswith("http://127.0.0.1:")
