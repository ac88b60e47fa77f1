"""/healthz/ answers container and load-balancer probes whatever ALLOWED_HOSTS and the HTTPS settings say."""

import pytest
from django.test import Client, override_settings


@pytest.mark.django_db
@override_settings(ALLOWED_HOSTS=["labelgate.example.org"], SECURE_SSL_REDIRECT=True)
def test_probe_on_loopback_gets_200_while_other_pages_still_enforce_host_and_https():
    # Given production-like settings: only the public host name, HTTPS enforced
    probe = Client(HTTP_HOST="127.0.0.1:8000")
    # When a probe asks for /healthz/ over plain HTTP on the loopback address
    response = probe.get("/healthz/")
    # Then it gets a 200 with the database status
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    # But every other path still refuses the unknown host
    assert probe.get("/login/").status_code == 400
    # And the public host over plain HTTP is still redirected to HTTPS
    public = Client(HTTP_HOST="labelgate.example.org")
    redirected = public.get("/login/")
    assert redirected.status_code == 301 and redirected["Location"].startswith("https://")
