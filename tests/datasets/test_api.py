"""REST: freeze requests, versions, exports, diffs, lineage, permissions and every bad-input path."""

import hashlib
import io
import json

import pandas as pd
import pytest

from annotation.models import Item, ItemStatus, Role
from core.models import Job
from tests.datasets.builders import freeze, labelled_items
from tests.factories import add_member, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    project = make_project(labels=("pos", "neg"))
    labelled_items(project, {"pos": 6, "neg": 4})
    return project


@pytest.fixture
def reviewer(project):
    return add_member(project, Role.REVIEWER)


def streamed(response) -> bytes:
    return b"".join(response.streaming_content)


def test_post_creates_a_freeze_job_with_the_validated_policy(api, project):
    response = api(project.created_by).post(
        f"/api/projects/{project.pk}/dataset-versions/",
        {
            "name": "first",
            "min_confidence": 0.8,
            "splits": {"train": 0.7, "dev": 0.15, "test": 0.15},
            "seed": 5,
        },
        format="json",
    )
    assert response.status_code == 202, response.json()
    job = Job.objects.get(pk=response.json()["job"])
    assert (job.kind, job.task_name, job.status) == ("freeze", "datasets.freeze", "queued")
    assert job.params["policy"]["splits"] == {"train": 0.7, "dev": 0.15, "test": 0.15}
    assert job.params["policy"]["min_confidence"] == 0.8 and job.params["name"] == "first"


@pytest.mark.parametrize(
    ("payload", "field", "fragment"),
    [
        ({"splits": {"train": 0.5, "dev": 0.1, "test": 0.1}}, "splits", "must sum to 1"),
        ({"min_confidence": -0.2}, "min_confidence", "between 0 and 1"),
        ({"splits": {"train": 0.8, "holdout": 0.2}}, "splits", "Unknown split 'holdout'"),
        ({"seed": "abc"}, "seed", "valid integer"),
        ({"name": "x" * 201}, "name", "200"),
    ],
)
def test_bad_freeze_input_is_a_field_level_400_and_creates_no_job(api, project, payload, field, fragment):
    response = api(project.created_by).post(
        f"/api/projects/{project.pk}/dataset-versions/", payload, format="json"
    )
    assert response.status_code == 400
    assert fragment in " ".join(response.json()[field])
    assert not Job.objects.filter(kind="freeze").exists()


def test_annotators_get_403_and_strangers_404(api, project):
    version = freeze(project)
    annotator = add_member(project, Role.ANNOTATOR)
    stranger = add_member(make_project(), Role.MANAGER)
    for url in (
        f"/api/projects/{project.pk}/dataset-versions/",
        f"/api/dataset-versions/{version.pk}/",
        f"/api/dataset-versions/{version.pk}/export/",
        f"/api/dataset-versions/{version.pk}/diff/?against={version.pk}",
    ):
        assert api(annotator).get(url).status_code == 403, url
        assert api(stranger).get(url).status_code == 404, url
    assert (
        api(annotator).post(f"/api/projects/{project.pk}/dataset-versions/", {}, format="json").status_code
        == 403
    )
    assert api().get(f"/api/dataset-versions/{version.pk}/").status_code == 401


def test_list_and_detail_show_counts_checksum_and_parent(api, project, reviewer):
    v1 = freeze(project, name="one")
    v2 = freeze(project)
    listing = api(reviewer).get(f"/api/projects/{project.pk}/dataset-versions/").json()
    assert listing["count"] == 2 and [row["version"] for row in listing["results"]] == [2, 1]
    detail = api(reviewer).get(f"/api/dataset-versions/{v2.pk}/").json()
    assert detail["parent"] == v1.pk and detail["parent_version"] == 1
    assert detail["checksum"] == v2.checksum and detail["counts"]["entries"] == 10
    assert (
        detail["split_counts"] == {"train": 8, "dev": 1, "test": 1}
        or sum(detail["split_counts"].values()) == 10
    )
    assert detail["label_distribution"] == {"pos": 6, "neg": 4}
    assert set(detail["metrics"]) >= {"krippendorff_alpha", "hlp", "model_accuracy"}


def test_version_list_query_count_does_not_grow_with_page_size(
    api, project, reviewer, django_assert_max_num_queries
):
    for _ in range(6):
        freeze(project)
    client = api(reviewer)
    with django_assert_max_num_queries(8):
        assert (
            len(client.get(f"/api/projects/{project.pk}/dataset-versions/?page_size=2").json()["results"])
            == 2
        )
    with django_assert_max_num_queries(8):
        assert (
            len(client.get(f"/api/projects/{project.pk}/dataset-versions/?page_size=6").json()["results"])
            == 6
        )


def test_export_over_rest_matches_the_checksum_and_parses_per_split(api, project, reviewer):
    version = freeze(project)
    client = api(reviewer)
    response = client.get(f"/api/dataset-versions/{version.pk}/export/?format=jsonl")
    assert response.status_code == 200 and response["Content-Type"] == "application/x-ndjson"
    data = streamed(response)
    assert hashlib.sha256(data).hexdigest() == version.checksum == response["X-Dataset-Checksum"]
    assert 'filename="sentiment-v1-all.jsonl"' in response["Content-Disposition"]
    csv = streamed(client.get(f"/api/dataset-versions/{version.pk}/export/?format=csv&split=train"))
    frame = pd.read_csv(io.BytesIO(csv))
    assert len(frame) == version.split_counts["train"] and set(frame["split"]) == {"train"}
    parquet = streamed(client.get(f"/api/dataset-versions/{version.pk}/export/?format=parquet"))
    assert len(pd.read_parquet(io.BytesIO(parquet))) == 10


def test_export_of_an_unknown_format_is_400_naming_the_allowed_ones(api, project, reviewer):
    version = freeze(project)
    response = api(reviewer).get(f"/api/dataset-versions/{version.pk}/export/?format=xml")
    assert response.status_code == 400
    message = response.json()["format"][0]
    assert '"xml"' in message and "jsonl, csv, parquet, labelstudio, zip" in message


def test_another_kinds_format_asked_of_a_class_version_is_400_in_words(api, project, reviewer):
    # A span or box format is a known format name, but not one a class version has: refused on the field,
    # not a server error
    version = freeze(project)
    for fmt in ("conll", "coco", "yolo"):
        response = api(reviewer).get(f"/api/dataset-versions/{version.pk}/export/?format={fmt}")
        assert response.status_code == 400, (fmt, response.content[:200])
        assert response.json()["format"][0].startswith("Class versions export as jsonl, csv, parquet or zip")


def test_export_of_an_unknown_split_is_400(api, project, reviewer):
    version = freeze(project)
    response = api(reviewer).get(f"/api/dataset-versions/{version.pk}/export/?split=validation")
    assert response.status_code == 400 and "train, dev, test" in response.json()["split"][0]


def test_export_of_another_projects_version_is_404(api, project, reviewer):
    other = make_project(labels=("a", "b"))
    labelled_items(other, {"a": 2})
    foreign = freeze(other)
    response = api(reviewer).get(f"/api/dataset-versions/{foreign.pk}/export/?format=jsonl")
    assert response.status_code == 404
    assert api(reviewer).get("/api/dataset-versions/999999/export/").status_code == 404


def test_diff_endpoint_and_its_bad_inputs(api, project, reviewer):
    ids = list(Item.objects.filter(project=project).order_by("id").values_list("id", flat=True))
    v1 = freeze(project)
    Item.objects.filter(pk=ids[0]).update(status=ItemStatus.ACCEPTED, final_label="neg")
    v2 = freeze(project)
    client = api(reviewer)
    body = client.get(f"/api/dataset-versions/{v2.pk}/diff/?against={v1.pk}").json()
    assert body["counts"] == {"added": 0, "removed": 0, "relabelled": 1, "split_moves": 0, "unchanged": 9}
    assert body["relabelled"] == [{"item_id": ids[0], "external_id": "t0", "from": "pos", "to": "neg"}]
    assert client.get(f"/api/dataset-versions/{v2.pk}/diff/").status_code == 400
    assert "against" in client.get(f"/api/dataset-versions/{v2.pk}/diff/?against=x").json()
    other = make_project()
    labelled_items(other, {"pos": 1})
    foreign = freeze(other)
    assert client.get(f"/api/dataset-versions/{v2.pk}/diff/?against={foreign.pk}").status_code == 404


def test_verify_endpoint_recomputes_the_checksum(api, project, reviewer):
    version = freeze(project)
    body = api(reviewer).get(f"/api/dataset-versions/{version.pk}/verify/").json()
    assert body == {"checksum": version.checksum, "computed": version.checksum, "ok": True, "n_entries": 10}


def test_item_lineage_lists_every_version_it_is_in(api, project, reviewer):
    item_id = Item.objects.filter(project=project).order_by("id").values_list("id", flat=True).first()
    v1 = freeze(project)
    Item.objects.filter(pk=item_id).update(status=ItemStatus.ACCEPTED, final_label="neg")
    v2 = freeze(project)
    rows = (
        api(reviewer).get(f"/api/projects/{project.pk}/items/{item_id}/dataset-versions/").json()["results"]
    )
    assert [(r["version_id"], r["version"], r["label"], r["label_source"]) for r in rows] == [
        (v2.pk, 2, "neg", "review"),
        (v1.pk, 1, "pos", "consensus"),
    ]
    assert rows[0]["split"] == rows[1]["split"]
    other_item = Item.objects.exclude(project=project).values_list("id", flat=True).first() or 10**9
    assert (
        api(reviewer).get(f"/api/projects/{project.pk}/items/{other_item}/dataset-versions/").status_code
        == 404
    )


def test_preview_counts_what_a_policy_would_include(api, project, reviewer):
    ids = list(Item.objects.filter(project=project).order_by("id").values_list("id", flat=True))
    Item.objects.filter(pk__in=ids[:2]).update(is_label_issue=True)
    body = api(reviewer).get(f"/api/projects/{project.pk}/dataset-versions/preview/").json()
    assert body == {"included": 8, "excluded": {"open_issue": 2}, "total": 10}
    body = (
        api(reviewer)
        .get(
            f"/api/projects/{project.pk}/dataset-versions/preview/?exclude_label_issues=false&min_confidence=0.95"
        )
        .json()
    )
    assert body == {"included": 0, "excluded": {"low_confidence": 10}, "total": 10}
    assert (
        api(reviewer)
        .get(f"/api/projects/{project.pk}/dataset-versions/preview/?min_confidence=-1")
        .status_code
        == 400
    )


def test_label_studio_export_uses_absolute_media_urls_and_is_valid_json(api, project, reviewer):
    version = freeze(project)
    data = streamed(
        api(reviewer).get(f"/api/dataset-versions/{version.pk}/export/?format=labelstudio&split=train")
    )
    tasks = json.loads(data)
    assert len(tasks) == version.split_counts["train"]
    assert all(task["annotations"][0]["result"][0]["value"]["choices"][0] in ("pos", "neg") for task in tasks)


def test_version_detail_declares_its_classes_in_project_order_with_stable_ids(api):
    # Given a project whose labels are ordered zeta, alpha, mid, and no item labelled "mid"
    project = make_project(labels=("zeta", "alpha", "mid"))
    labelled_items(project, {"alpha": 2, "zeta": 1})
    member = add_member(project, Role.REVIEWER)
    version = freeze(project)
    # When a client reads the version over REST
    detail = api(member).get(f"/api/dataset-versions/{version.pk}/").json()
    # Then the classes are the project's, in its order, ids 0..2, "mid" included although no row has it
    assert detail["label_schema"]["multi_label"] is False
    assert [(label["id"], label["value"], label["active"]) for label in detail["label_schema"]["labels"]] == [
        (0, "zeta", True),
        (1, "alpha", True),
        (2, "mid", True),
    ]
