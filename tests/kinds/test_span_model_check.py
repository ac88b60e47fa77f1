"""A span quality run keeps the token model's label-issue flags where the consensus is still what the model was
checked against, drops them where it changed, and reports the model's F1 beside the other figures."""

import numpy as np
import pytest

from activelearning.models import ModelVersion, TokenPrediction
from annotation.models import Item
from kinds.spans.model_check import token_model_check
from quality.adapters import ItemResults
from tests.factories import add_items, make_project

pytestmark = pytest.mark.django_db

SPANS = [{"start": 0, "end": 7, "label": "PER"}]


def _results(ids, consensus):
    n = len(ids)
    return ItemResults(
        item_ids=np.asarray(ids),
        consensus=consensus,
        confidence=np.ones(n),
        is_tie=np.zeros(n, dtype=bool),
        label_quality=np.full(n, np.nan),
        is_issue=np.zeros(n, dtype=bool),
        reasons=[[] for _ in range(n)],
        severity=np.full(n, 0.2),
        route=np.zeros(n, dtype=bool),
    )


def test_flags_are_kept_only_where_the_consensus_is_unchanged_and_model_f1_is_reported():
    # Given a span project with three items the token model flagged, checked against SPANS
    project = make_project(task_type="text_spans", labels=("LOC", "PER"))
    add_items(project, 3)
    ids = list(Item.objects.filter(project=project).order_by("id").values_list("id", flat=True))
    f1 = {"span_f1": 0.93, "token_f1": 0.95, "against": "consensus", "n_items": 3, "model_version": 1}
    ModelVersion.objects.create(
        project=project,
        version=1,
        extractor="token-ngram-cnn/1",
        extractor_name="token-ngram-cnn",
        extractor_version="1",
        strategy="margin",
        n_train=3,
        cv_accuracy=0.9,
        figures={"model_f1": f1},
    )
    for pk in ids:
        TokenPrediction.objects.create(
            project=project,
            item_id=pk,
            probs=b"",
            n_classes=3,
            is_out_of_sample=True,
            is_issue=True,
            checked_spans=SPANS,
        )
    # When a run's consensus equals the checked spans on the first item (confidence added), differs on the
    # second, and the third has none
    consensus = [[{**SPANS[0], "confidence": 0.8}], [{"start": 0, "end": 7, "label": "LOC"}], None]
    merged, figures = token_model_check(items=_results(ids, consensus), project_id=project.pk)
    # Then only the first keeps the model's reason, as an issue of at least the model's severity
    assert merged.reasons == [["model_disagrees"], [], []]
    assert merged.is_issue.tolist() == [True, False, False]
    assert merged.severity.tolist() == [0.9, 0.2, 0.2]
    assert figures == {"model_f1": f1}


def test_without_a_project_nothing_is_read():
    items = _results([1], [SPANS])
    assert token_model_check(items=items, project_id=None) == (items, {})


def test_before_a_token_model_the_figure_is_none():
    project = make_project(task_type="text_spans", labels=("LOC",))
    add_items(project, 1)
    ids = list(Item.objects.filter(project=project).values_list("id", flat=True))
    _, figures = token_model_check(items=_results(ids, [SPANS]), project_id=project.pk)
    assert figures == {"model_f1": None}
