"""A token model trained after the last quality run: the quality page names it (its span F1, "run a quality check
to compare") instead of "no model yet", and the project overview words the token model from its own figures, not
as a class model's cross-validated accuracy."""

from __future__ import annotations

import pytest

from annotation.models import Item, Role
from tests.factories import add_member, make_project
from tests.quality.test_structured_kind_pages import _run_quality
from tests.quality.test_structured_kind_statistics_pages import _rows

pytestmark = [pytest.mark.django_db, pytest.mark.worker]


def test_a_token_model_newer_than_the_quality_run_is_named_on_the_quality_page_and_overview(
    client, api, worker
):
    from activelearning.models import ModelVersion
    from ingress.services.bulk import item_bulk_create
    from tests.spans.test_span_quality_worker import GOOD, TEXTS, THIRD

    # Given a span project whose quality run (on the real worker) ran before any model existed
    project = make_project(task_type="text_spans", labels=("PER", "LOC"), k=3, max_annotations_per_item=3)
    assert not item_bulk_create(
        project=project, rows=[{"external_id": f"d{i}", "text": t} for i, t in enumerate(TEXTS)]
    ).errors
    items = list(Item.objects.filter(project=project).order_by("id"))
    for source in (GOOD, GOOD, THIRD):
        user = add_member(project)
        for item, spans in zip(items, source, strict=True):
            response = api(user).post(
                f"/api/projects/{project.pk}/annotations/", {"item": item.pk, "spans": spans}, format="json"
            )
            assert response.status_code == 201, response.json()
    reviewer = add_member(project, Role.REVIEWER)
    report, _ = _run_quality(api, worker, project, reviewer)
    assert report["hlp_f1"]["model_f1"] is None

    # When a token model v1 is trained afterwards: span F1 0.35 against the gold spans of 4 items, token
    # accuracy 59 % out of sample (5-fold on 10 items)
    f1 = {"span_f1": 0.35, "token_f1": 0.41, "against": "gold", "n_items": 4, "model_version": 1}
    ModelVersion.objects.create(
        project=project,
        version=1,
        extractor="token-ngram-cnn/1",
        extractor_name="token-ngram-cnn",
        extractor_version="1",
        strategy="margin",
        n_train=10,
        n_folds=5,
        cv_accuracy=0.59,
        figures={"model_f1": f1},
    )

    # Then the quality page's model row and its explanations name the newer model instead of "no model yet"
    client.force_login(reviewer)
    html = client.get(f"/projects/{project.pk}/quality/").content.decode()
    model = _rows(html, "kind-hlp", "data-row")["model"]
    expected = "token model v1 trained after this run (span F1 0.35 against gold, out of sample); run a quality check to compare"
    assert model[1] == expected
    assert f'<li id="newer-model">Since this run: {expected}.</li>' in html
    # and the overview says the token model's own figures
    overview = client.get(f"/projects/{project.pk}/").content.decode()
    assert (
        "Token model v1: out-of-sample span F1 0.35 against the gold spans of 4 items; token accuracy 59.0 % "
        "(5-fold on 10 labelled items)"
    ) in overview
    assert "cross-validated accuracy on 10 labels" not in overview
