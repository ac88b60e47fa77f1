"""The bulk API and a file import build text items the same way: the same rows end in the same status."""

import pytest

from annotation.models import Item
from tests.factories import make_project
from tests.ingress.ingress_fixtures import run_import

pytestmark = pytest.mark.django_db

# An ordinary text, an empty one (flag "empty", routed to review by default) and one with undecodable bytes
# replaced by U+FFFD (flag "encoding_error", routed too).
ROWS = [
    {"external_id": "plain", "text": "a perfectly ordinary sentence"},
    {"external_id": "blank", "text": "   "},
    {"external_id": "broken", "text": "caf\ufffd cr\ufffdme"},
]
EXPECTED = {"plain": "new", "blank": "needs_review", "broken": "needs_review"}


def statuses(project) -> dict[str, str]:
    return dict(Item.objects.filter(project=project).values_list("external_id", "status"))


def test_bulk_api_routes_unusable_texts_to_review_like_a_csv_import(media_roots, api):
    # Given the same three rows sent once through the bulk API and once as a CSV file
    by_bulk, by_csv = make_project(name="bulk"), make_project(name="csv")
    response = api(by_bulk.created_by).post(f"/api/projects/{by_bulk.pk}/items/bulk/", ROWS, format="json")
    assert response.status_code == 201, response.content
    csv_text = "external_id,text\n" + "".join(f"{row['external_id']},{row['text']}\n" for row in ROWS)
    job = run_import(by_csv, "rows.csv", csv_text.encode())
    assert job.result["created"] == 3
    # Then both paths route the empty and the broken text to review and leave the plain one for annotators
    assert statuses(by_csv) == EXPECTED
    assert statuses(by_bulk) == EXPECTED
    # And every stored column the two paths fill agrees, row by row
    columns = [
        "external_id",
        "text",
        "sha256",
        "near_dup_key",
        "flags",
        "profile",
        "status",
        "target_annotations",
    ]
    bulk_rows = list(Item.objects.filter(project=by_bulk).order_by("external_id").values(*columns))
    csv_rows = list(Item.objects.filter(project=by_csv).order_by("external_id").values(*columns))
    assert bulk_rows == csv_rows
