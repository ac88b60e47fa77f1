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


def _schema() -> dict:
    """The schema as served: YAML read back into plain types."""
    import yaml

    out = StringIO()
    call_command("spectacular", stdout=out)
    return yaml.safe_load(out.getvalue())


def _typed(schema) -> bool:
    """A type of its own, a reference, or a composition whose every branch is typed."""
    if not isinstance(schema, dict):
        return False
    if "type" in schema or "$ref" in schema:
        return True
    branches = [b for key in ("oneOf", "anyOf", "allOf") for b in schema.get(key, [])]
    return bool(branches) and all(_typed(b) for b in branches)


def _untyped(schema: dict, where: str) -> list[str]:
    found = []
    children = [(f"{where}.{name}", prop) for name, prop in (schema.get("properties") or {}).items()]
    if isinstance(schema.get("additionalProperties"), dict):
        children.append((f"{where}[*]", schema["additionalProperties"]))
    elif schema.get("additionalProperties") not in (None, True, False):
        found.append(f"{where}[*]")
    if "items" in schema:
        children.append((f"{where}[]", schema["items"]))
    children += [
        (f"{where}|{i}", b) for key in ("oneOf", "anyOf", "allOf") for i, b in enumerate(schema.get(key, []))
    ]
    for path, child in children:
        if not _typed(child):
            found.append(f"{path}: {child}")
        elif isinstance(child, dict):
            found += _untyped(child, path)
    return found


def _operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


@pytest.mark.django_db
def test_every_property_in_the_schema_has_a_type():
    # Given the generated schema; when every component, body and response schema is walked
    schema = _schema()
    found = []
    for name, component in schema["components"]["schemas"].items():
        found += _untyped(component, name)
    for where, operation in _operations(schema):
        contents = [*operation.get("requestBody", {}).get("content", {}).items()]
        contents += [
            item
            for response in operation["responses"].values()
            for item in response.get("content", {}).items()
        ]
        for media_type, content in contents:
            if not _typed(content.get("schema")):
                found.append(f"{where} {media_type}")
            found += _untyped(content.get("schema", {}), f"{where} {media_type}")
    # Then none is left untyped (free-form objects say so: type object, additionalProperties true)
    assert found == []


def test_the_type_walker_finds_what_a_plain_jsonfield_leaves_untyped():
    # A JSONField renders as {} and a DictField without child as additionalProperties {}: both are caught.
    component = {
        "type": "object",
        "properties": {
            "labels": {},
            "meta": {"type": "object", "additionalProperties": {}},
            "ok": {"type": "object", "additionalProperties": True},
        },
    }
    assert _untyped(component, "C") == ["C.labels: {}", "C.meta[*]: {}"]


@pytest.mark.django_db
def test_request_bodies_are_json_only_except_the_file_upload():
    bodies = {
        where: sorted(op["requestBody"]["content"])
        for where, op in _operations(_schema())
        if "requestBody" in op
    }
    assert bodies.pop("POST /api/projects/{pid}/imports/") == ["multipart/form-data"]
    assert bodies and {tuple(types) for types in bodies.values()} == {("application/json",)}


@pytest.mark.django_db
def test_every_operation_documents_its_errors_with_the_one_error_schema():
    schema = _schema()
    error = {"$ref": "#/components/schemas/Error"}
    for where, operation in _operations(schema):
        errors = {code: r for code, r in operation["responses"].items() if code[0] in "45"}
        assert "503" in errors, where
        for code, response in errors.items():
            assert response["content"] == {"application/json": {"schema": error}}, (where, code)
        # An authenticated operation says so; the token endpoint and signed export links need no credentials
        # (a link answers 403 when expired or changed, never 401)
        unauthenticated = {"POST /api/auth/token/", "GET /api/dataset-exports/{token}/{filename}"}
        assert ({"401", "403"} <= set(errors)) == (where not in unauthenticated), where
    # And the conflicts the services raise are declared where they happen
    conflicts = {where for where, operation in _operations(schema) if "409" in operation["responses"]}
    assert {
        "GET /api/projects/{pid}/next/",
        "POST /api/projects/{pid}/annotations/",
        "POST /api/projects/{pid}/guidelines/acknowledge/",
        "POST /api/projects/{pid}/quality-runs/",
        "POST /api/projects/{pid}/model/train/",
    } <= conflicts
    # And the error body names the guideline version the 409 of next asks for
    assert schema["components"]["schemas"]["Error"]["properties"]["guideline_version"]["type"] == "integer"


@pytest.mark.django_db
def test_exports_are_declared_binary_with_their_media_types():
    operation = _schema()["paths"]["/api/dataset-versions/{vid}/export/"]["get"]
    content = operation["responses"]["200"]["content"]
    assert list(content)[0] == "application/octet-stream"
    assert set(content) == {
        "application/octet-stream",
        "application/x-ndjson",
        "text/csv",
        "application/vnd.apache.parquet",
        "application/zip",
        "application/json",
        "application/xml",
    }
    # every file is binary, but the Label Studio tasks, which are JSON and declared as the list they are
    assert all(
        c["schema"] == {"type": "string", "format": "binary"}
        for media, c in content.items()
        if media != "application/json"
    )
    assert content["application/json"]["schema"]["type"] == "array"


@pytest.mark.django_db
def test_the_token_scheme_documents_both_prefixes():
    scheme = _schema()["components"]["securitySchemes"]["tokenAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert "Token <key>" in scheme["description"] and "Bearer <key>" in scheme["description"]


@pytest.mark.django_db
def test_the_schema_is_valid_openapi():
    from openapi_spec_validator import validate

    validate(_schema())  # raises on an invalid document


@pytest.mark.django_db
def test_the_reviewer_item_detail_documents_the_keys_it_returns():
    from quality.review.serializers import ReviewItemFieldsSerializer, item_fields
    from tests.factories import make_project

    project = make_project()
    item = project.items.create(external_id="x", text="hello")
    assert set(item_fields(item)) == set(ReviewItemFieldsSerializer().fields)


@pytest.mark.django_db
def test_an_unmatched_api_url_answers_the_documented_json_404_and_pages_keep_the_html_one(client):
    # Given a path value the URL conf cannot match (the schema documents every 404 as the JSON error)
    response = client.get("/api/dataset-versions/not-a-number/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json" and response.json() == {"detail": "Not found."}
    # And outside the API the page stays HTML
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")
