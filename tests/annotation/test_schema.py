"""The OpenAPI schema is valid and generates without warnings (CI runs the same check)."""

from io import StringIO

import pytest
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
