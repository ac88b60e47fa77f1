import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotation.models import Annotation, Item, ItemStatus
from quality.adapters import project_data_load
from tests.factories import add_items, add_member, make_project
from tests.quality.vote_builders import annotate, items_of

pytestmark = pytest.mark.django_db


def _hand_built_project():
    project = make_project(labels=("pos", "neg", "neutral"))
    add_items(project, 6)
    t0, t1, t2, t3, t4, t5 = items_of(project)
    a0, a1, a2 = (add_member(project) for _ in range(3))
    old = annotate(project, t0, a2, "neutral", live=False)
    annotate(project, t0, a0, "pos")
    annotate(project, t0, a1, "pos")
    newer = annotate(project, t0, a2, "neg")
    Annotation.objects.filter(pk=newer.pk).update(supersedes=old)
    annotate(project, t1, a0, "neg", lead_time_ms=1500)
    annotate(project, t1, a1, "neg", unsure=True)
    annotate(project, t1, a2, "neutral")
    annotate(project, t2, a0, [], unusable=True)
    annotate(project, t2, a1, "pos")
    annotate(project, t3, a0, "pos")
    Item.objects.filter(pk=t3.pk).update(status=ItemStatus.DISCARDED)
    annotate(project, t5, a2, "neutral", version=2)
    Item.objects.filter(pk=t1.pk).update(gold_label="neg", is_gold=True)
    Item.objects.filter(pk=t0.pk).update(
        tags=["night"], near_dup_group=7, predicted_probs={"pos": 2.0, "neg": 1.0, "neutral": 1.0}
    )
    Item.objects.filter(pk=t1.pk).update(tags=["night", "rain"])
    Item.objects.filter(pk=t2.pk).update(near_dup_group=7, flags=["empty"])
    return project, (t0, t1, t2, t3, t4, t5), (a0, a1, a2)


def test_adapter_builds_the_items_by_annotators_matrix_and_side_arrays():
    # Given a hand-built project: a superseded vote, an unusable-only vote, a discarded and an unlabelled item
    project, (t0, t1, t2, _t3, _t4, t5), (a0, a1, a2) = _hand_built_project()
    # When the adapter loads it
    data = project_data_load(project=project)
    # Then only live annotations of non-discarded annotated items are in the table, in item-id order
    assert data.item_ids.tolist() == [t0.pk, t1.pk, t2.pk, t5.pk]
    assert data.user_ids.tolist() == [a0.pk, a1.pk, a2.pk]
    assert data.label_values == ["pos", "neg", "neutral"]
    assert data.table.dense().tolist() == [[0, 0, 1], [1, 1, 2], [-1, 0, -1], [-1, -1, 2]]
    assert data.unsure_count.tolist() == [0, 1, 0, 0]
    assert data.unusable_count.tolist() == [0, 0, 1, 0]
    assert data.gold.tolist() == [-1, 1, -1, -1]
    assert {tag: items.tolist() for tag, items in data.tags.items()} == {"night": [0, 1], "rain": [1]}
    assert data.duplicate_group.tolist() == [7, -1, 7, -1]
    assert data.profile_flag.tolist() == [False, False, True, False]
    assert data.has_probs.tolist() == [True, False, False, False]
    assert data.pred_probs[0].tolist() == [0.5, 0.25, 0.25]
    assert data.guideline_versions.tolist() == [1, 2]
    # the one version-2 annotation is the last row's group
    dense_group = np.full((4, 3), -1)
    dense_group[data.table.item, data.table.annotator] = data.table.group
    assert dense_group[3, 2] == 1 and (dense_group[:3][dense_group[:3] >= 0] == 0).all()
    lead = np.full((4, 3), -1.0)
    lead[data.table.item, data.table.annotator] = np.nan_to_num(data.lead_time, nan=-1.0)
    assert lead[1, 0] == 1.5


def test_adapter_encodes_multi_label_sets_as_flag_rows():
    # Given a multi-label project with two annotators
    project = make_project(labels=("cat", "dog", "bird"), multi_label=True)
    add_items(project, 2)
    first, second = items_of(project)
    a0, a1 = add_member(project), add_member(project)
    annotate(project, first, a0, ["cat", "bird"])
    annotate(project, first, a1, [])
    annotate(project, second, a0, ["dog"])
    Item.objects.filter(pk=second.pk).update(gold_label=["bird", "dog"])
    # When loaded
    data = project_data_load(project=project)
    # Then each annotation is a 0/1 row over the labels, an empty set is a valid "none" answer
    assert data.table.multi_label
    rows = {
        (int(i), int(a)): r.tolist()
        for i, a, r in zip(data.table.item, data.table.annotator, data.table.label, strict=True)
    }
    assert rows == {(0, 0): [1, 0, 1], (0, 1): [0, 0, 0], (1, 0): [0, 1, 0]}
    assert data.gold.tolist() == [-1, 0b110]
    assert data.gold_matrix.tolist() == [[0, 0, 0], [0, 1, 1]]


def _load_queries(n_items: int) -> int:
    project = make_project()
    add_items(project, n_items, tags=["a"])
    items = items_of(project)
    users = [add_member(project) for _ in range(3)]
    for item in items:
        for user, label in zip(users, ("pos", "neg", "pos"), strict=True):
            annotate(project, item, user, label)
    with CaptureQueriesContext(connection) as queries:
        data = project_data_load(project=project)
    assert data.table.n_items == n_items
    return len(queries)


def test_adapter_query_count_does_not_grow_with_items():
    # Given two projects, one five times larger
    small, large = _load_queries(4), _load_queries(20)
    # Then loading either takes the same three queries: the label schema (classes and merge mapping in one read),
    # items, annotations
    assert small == large == 3


def test_adapter_reads_renamed_labels_as_their_new_value():
    from quality.review.services.labels import label_rename

    # Given "neutral" was renamed to "mixed" (through the service label managers use) after an annotator used it
    project = make_project(labels=("pos", "neg", "neutral"))
    add_items(project, 1)
    (item,) = items_of(project)
    annotate(project, item, add_member(project), "neutral")
    label_rename(project=project, author=project.created_by, label="neutral", to="mixed")
    # When loaded
    data = project_data_load(project=project)
    # Then the old value is counted as the new label, which is a class; the retired one is not
    assert data.label_values == ["pos", "neg", "mixed"]
    assert data.table.label.tolist() == [2]
