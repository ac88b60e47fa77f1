"""The OpenAPI schema is valid and generates without warnings (CI runs the same check)."""

import re
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command


@pytest.mark.django_db
def test_openapi_schema_validates_without_warnings(tmp_path):
    # When the schema is generated with validation and warnings as failures
    out = tmp_path / "schema.yaml"
    stderr = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out), stderr=stderr)
    # Then it is written and names the public endpoints
    schema = out.read_text()
    assert "/api/projects/{pid}/next/" in schema
    assert "/api/projects/{pid}/annotations/" in schema
    assert "/api/jobs/{job_id}/" in schema
    assert "Warning" not in stderr.getvalue()


@pytest.mark.django_db
def test_api_docs_page_loads_swagger_ui_from_our_static_files_not_a_cdn(client):
    # When the docs page is requested (it is public, like the schema)
    response = client.get("/api/docs/")
    # Then it renders Swagger UI whose scripts and styles are served by Labelgate itself
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]*swagger-ui[^"]*)"', html)
    assert any(asset.endswith(".js") for asset in assets) and any(asset.endswith(".css") for asset in assets)
    for asset in assets:
        assert asset.startswith(settings.STATIC_URL), asset
        # and each of them is a file the static finders (and so collectstatic/whitenoise) can serve
        assert finders.find(asset.removeprefix(settings.STATIC_URL)), asset
    assert "cdn" not in html.lower()
