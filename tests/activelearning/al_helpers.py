"""Small text projects whose labels a model can learn from the words, for the active-learning tests."""

import random

from annotation.models import Item, ItemStatus
from annotation.services.annotations import AnnotationInput, annotation_submit
from ingress.services.bulk import item_bulk_create
from tests.factories import add_member, make_project

LABELS = ("pos", "neg", "neutral")
WORDS = {
    "pos": ["great", "wonderful", "excellent", "lovely", "superb", "delightful"],
    "neg": ["awful", "terrible", "horrible", "dreadful", "boring", "poor"],
    "neutral": ["table", "window", "tuesday", "paper", "street", "number"],
}
FILLER = ["the", "a", "film", "was", "really", "quite", "and", "it", "this", "plot"]


def text_for(label: str, seed: int) -> str:
    rng = random.Random(seed)
    words = [rng.choice(WORDS[label]) for _ in range(3)] + [rng.choice(FILLER) for _ in range(4)]
    rng.shuffle(words)
    return " ".join(words)


def al_project(*, n_labelled_per_label: int = 6, n_pool_per_label: int = 6, k: int = 3, **fields):
    """A project with labelled items (status labelled, consensus set as the quality layer would) and a pool.

    Returns (project, labelled items, pool items), each list in id order.
    """
    project = make_project(labels=LABELS, k=k, **fields)
    rows = []
    for offset, label in enumerate(LABELS):
        for i in range(n_labelled_per_label):
            rows.append({"external_id": f"L-{label}-{i}", "text": text_for(label, 1000 * offset + i)})
    for offset, label in enumerate(LABELS):
        for i in range(n_pool_per_label):
            rows.append(
                {"external_id": f"P-{label}-{i}", "text": text_for(label, 50_000 + 1000 * offset + i)}
            )
    result = item_bulk_create(project=project, rows=rows)
    assert not result.errors, result.errors
    for label in LABELS:
        Item.objects.filter(project=project, external_id__startswith=f"L-{label}-").update(
            status=ItemStatus.LABELLED, consensus_label=label, annotation_count=k, consensus_confidence=1.0
        )
    labelled = list(Item.objects.filter(project=project, external_id__startswith="L-").order_by("id"))
    pool = list(Item.objects.filter(project=project, external_id__startswith="P-").order_by("id"))
    return project, labelled, pool


def vote(project, item, labels, annotators=None, unsure=()):
    """Submit one vote per label through the annotation service (fresh annotators unless given)."""
    annotators = annotators or [add_member(project) for _ in labels]
    for position, (user, label) in enumerate(zip(annotators, labels, strict=False)):
        annotation_submit(
            project=project,
            user=user,
            data=AnnotationInput(item_id=item.pk, labels=[label], unsure=position in unsure),
        )
    return annotators
