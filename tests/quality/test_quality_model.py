"""The quality model inside a quality run: with cached item features, CROWDLAB and the label-issue check use the
benchmarked recipe (logistic regression + kNN cross-validated on the consensus, alternated with CROWDLAB) instead
of the base model's stored probabilities; without features the run is what it was."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

from activelearning.models import FeatureCache, FeatureSpace
from annotation.models import Item
from quality.adapters import ProjectData, item_features_load, project_data_for_table
from quality.metrics.consensus import dawid_skene
from quality.metrics.label_issues import REASON_CODES, find_label_issues_from_features
from quality.metrics.table import AnnotationTable
from quality.services.engine import run_quality
from quality.services.quality_model import QUALITY_MODEL_MIN_ITEMS, QUALITY_MODEL_TEXT
from tests.factories import add_items, make_project

K = 10
# Digits people confuse; simulated mistakes go there most of the time.
PARTNERS = {
    0: [6],
    1: [7],
    2: [3, 7],
    3: [5, 8],
    4: [9],
    5: [3, 8],
    6: [0, 5],
    7: [1, 2],
    8: [3, 5],
    9: [4, 7],
}


def _digits():
    features, truth = load_digits(return_X_y=True)
    return features, truth


def _crowd(truth: np.ndarray, *, per_item: int, seed: int) -> AnnotationTable:
    """20 annotators: 16 honest (accuracy 0.55–0.9, 70 % of mistakes to a confusable digit), 2 spammers and 2
    adversaries (85 % a fixed wrong digit); each item labelled by ``per_item`` distinct annotators."""
    rng = np.random.default_rng(seed)
    confusion = []
    for _ in range(16):
        accuracy = rng.uniform(0.55, 0.9)
        matrix = np.full((K, K), 0.3 * (1 - accuracy) / (K - 1))
        for k in range(K):
            matrix[k, PARTNERS[k]] += 0.7 * (1 - accuracy) / len(PARTNERS[k])
            matrix[k, k] = accuracy
        confusion.append(matrix)
    confusion += [np.full((K, K), 1 / K)] * 2
    for shift in (3, 7):
        matrix = np.full((K, K), 0.15 / (K - 1))
        matrix[np.arange(K), (np.arange(K) + shift) % K] = 0.85
        confusion.append(matrix)
    confusion = np.array(confusion)
    n = truth.size
    annotator = np.argsort(rng.random((n, len(confusion))), axis=1)[:, :per_item].ravel()
    item = np.repeat(np.arange(n), per_item)
    cumulative = confusion[annotator, truth[item]].cumsum(axis=1)
    label = np.minimum((rng.random(item.size)[:, None] > cumulative).sum(axis=1), K - 1)
    return AnnotationTable(
        item=item,
        annotator=annotator,
        label=label,
        n_items=n,
        n_annotators=len(confusion),
        n_classes=K,
        group=np.zeros(item.size, dtype=np.int64),
    )


def _data(table: AnnotationTable, features: np.ndarray | None) -> ProjectData:
    return project_data_for_table(table=table, label_values=[str(d) for d in range(K)], features=features)


def _run(data: ProjectData, method: str = "auto"):
    return run_quality(
        data=data, requested_method=method, review_threshold=0.6, route_profile_flags=True, n_boot=0
    )


def _labels(outcome) -> np.ndarray:
    return np.array([-1 if value is None else int(value) for value in outcome.items.consensus])


def test_features_turn_on_crowdlab_with_the_quality_model_and_beat_dawid_skene():
    # Given 1,797 digits, each labelled by 3 of 20 simulated annotators (spammers and adversaries among them)
    features, truth = _digits()
    table = _crowd(truth, per_item=3, seed=0)
    # When the quality run executes without features and with the items' features
    plain = _run(_data(table, None))
    refined = _run(_data(table, features))
    # Then without features it is Dawid–Skene, with them CROWDLAB on the quality model
    assert plain.method == "dawid_skene"
    assert refined.method == "crowdlab"
    assert (
        refined.method_note
        == f"CROWDLAB with {QUALITY_MODEL_TEXT}, fitted on Dawid–Skene labels and refitted once."
    )
    # and the method's picks are markedly more accurate (the issue's target for the default method: ≥ 0.97).
    # A pick no annotator voted for is not stored as the consensus but as the item's suggestion, for review.
    plain_accuracy = (_labels(plain) == truth).mean()
    picks = np.array(
        [c if s is None else int(s) for c, s in zip(_labels(refined), refined.items.suggestion, strict=True)]
    )
    assert plain_accuracy < 0.9
    assert (picks == truth).mean() >= 0.97
    # and even the voted consensus alone beats Dawid–Skene's (which may itself pick unvoted labels)
    assert (_labels(refined) == truth).mean() > plain_accuracy + 0.03
    # and the adversaries and spammers (annotators 16–19) get the four lowest quality scores
    quality = np.array([row["quality_score"] for row in refined.annotators])
    assert set(np.argsort(quality)[:4].tolist()) == {16, 17, 18, 19}
    # and every item is model-checked, and the stored fit tells the per-item update to use model priors
    assert np.isfinite(refined.items.label_quality).all()
    assert refined.consensus_params["item_prior"] == "model"
    assert "item_prior" not in plain.consensus_params


def test_one_label_per_item_flags_come_from_the_quality_model_cross_validated_on_the_consensus():
    # Given one label per item, 10 % of them swapped to a confusable digit
    features, truth = _digits()
    rng = np.random.default_rng(1)
    noisy = truth.copy()
    swapped = rng.choice(truth.size, size=truth.size // 10, replace=False)
    noisy[swapped] = [rng.choice(PARTNERS[c]) for c in truth[swapped]]
    n = truth.size
    table = AnnotationTable(
        item=np.arange(n),
        annotator=np.arange(n) % 7,
        label=noisy,
        n_items=n,
        n_annotators=7,
        n_classes=K,
        group=np.zeros(n, dtype=np.int64),
    )
    # When the quality run executes with the items' features
    outcome = _run(_data(table, features))
    # Then the consensus is the single label (Dawid–Skene: no item has two) and the model check is the
    # benchmarked recipe on exactly those labels
    assert outcome.method == "dawid_skene"
    assert (_labels(outcome) == noisy).all()
    assert QUALITY_MODEL_TEXT in outcome.method_note
    expected, _ = find_label_issues_from_features(
        features=features, consensus_label=noisy, n_classes=K, seed=0
    )
    model_bit = 1 << REASON_CODES.index("model_disagrees")
    flagged = np.array(["model_disagrees" in reasons for reasons in outcome.items.reasons])
    assert (flagged == ((expected.reasons & model_bit) > 0)).all()
    # and the flags find the swapped labels (F1 ≥ 0.82 is the issue's target)
    corrupted = np.isin(np.arange(n), swapped)
    precision = (flagged & corrupted).sum() / flagged.sum()
    recall = (flagged & corrupted).sum() / corrupted.sum()
    assert 2 * precision * recall / (precision + recall) >= 0.82


def test_items_without_features_take_plain_dawid_skene_and_are_not_model_checked():
    # Given 3 labels per item and features for all but the first 100 items
    features, truth = _digits()
    table = _crowd(truth, per_item=3, seed=2)
    partial = features.copy()
    partial[:100] = np.nan
    # When the quality run executes
    outcome = _run(_data(table, partial))
    # Then CROWDLAB ran on the covered items and says which items fell back
    n_covered = truth.size - 100
    assert outcome.method == "crowdlab"
    assert outcome.method_note.endswith(
        f"on the {n_covered:,} labelled items with features; Dawid–Skene for the 100 labelled items without them."
    )
    # and the uncovered items carry plain Dawid–Skene's labels where somebody voted for them (elsewhere a voted
    # label, with the override reason) and no model check
    plain = dawid_skene(table=table).consensus
    voted = table.counts()[np.arange(100), plain.label[:100]] > 0
    assert (_labels(outcome)[:100][voted] == plain.label[:100][voted]).all()
    assert all("model_overrides_annotators" in outcome.items.reasons[i] for i in np.flatnonzero(~voted))
    assert np.isnan(outcome.items.label_quality[:100]).all()
    assert np.isfinite(outcome.items.label_quality[100:]).all()


def test_too_few_items_with_features_leave_the_run_as_it_was():
    # Given fewer annotated items with features than the quality model needs
    features, truth = _digits()
    table = _crowd(truth, per_item=3, seed=3)
    sparse = np.full(features.shape, np.nan)
    sparse[: QUALITY_MODEL_MIN_ITEMS - 1] = features[: QUALITY_MODEL_MIN_ITEMS - 1]
    # When the quality run executes with and without them
    with_few = _run(_data(table, sparse))
    without = _run(_data(table, None))
    # Then nothing differs: Dawid–Skene, no model check
    assert with_few.method == without.method == "dawid_skene"
    assert with_few.method_note == without.method_note
    assert (_labels(with_few) == _labels(without)).all()
    assert np.isnan(with_few.items.label_quality).all()


def test_features_of_the_wrong_shape_are_refused():
    features, truth = _digits()
    table = _crowd(truth, per_item=2, seed=4)
    with pytest.raises(ValueError, match="features must have shape"):
        _run(_data(table, features[:10]))


@pytest.mark.django_db
def test_item_features_load_reads_the_current_space_in_item_order_with_nan_for_missing_vectors():
    # Given a project with three items, a stale and a current feature space; the current one caches vectors for
    # the first and third item, and an unreadable-content row (no vector) for the second
    project = make_project()
    add_items(project, 3)
    items = list(Item.objects.filter(project=project).order_by("id"))
    ids = np.array([item.pk for item in items])
    assert item_features_load(project=project, item_ids=ids) is None
    FeatureSpace.objects.create(project=project, key="old", extractor="x/1", dim=2)
    FeatureSpace.objects.create(project=project, key="new", extractor="x/1", dim=2)
    FeatureCache.objects.create(item=items[0], extractor="old", vector=np.float32([9, 9]).tobytes())
    FeatureCache.objects.create(item=items[0], extractor="new", vector=np.float32([1, 2]).tobytes())
    FeatureCache.objects.create(item=items[1], extractor="new", vector=None, error="cannot decode")
    FeatureCache.objects.create(item=items[2], extractor="new", vector=np.float32([5, 6]).tobytes())
    # When the quality run's adapter loads them in reverse item order
    values = item_features_load(project=project, item_ids=ids[::-1].copy())
    # Then rows follow the given order, come from the current space, and the unreadable item is NaN
    assert values[0].tolist() == [5.0, 6.0]
    assert np.isnan(values[1]).all()
    assert values[2].tolist() == [1.0, 2.0]
