"""Test data for dataset versions: items with the denormalised labels the quality layer would write."""

from annotation.models import Item, ItemStatus
from datasets.models import DatasetVersion
from datasets.policy import policy_from_params
from datasets.services import dataset_version_freeze
from tests.factories import add_items


def labelled_items(
    project, labels: dict[str, int], *, prefix: str = "t", confidence: float = 0.9, start: int = 0
) -> list[int]:
    """Add items labelled by consensus, ``{label: count}`` in that order; returns their ids in order."""
    total = sum(labels.values())
    add_items(project, total, prefix=prefix, start=start)
    ids = list(
        Item.objects.filter(project=project, external_id__startswith=prefix)
        .order_by("id")
        .values_list("id", flat=True)
    )[-total:]
    offset = 0
    for label, count in labels.items():
        Item.objects.filter(pk__in=ids[offset : offset + count]).update(
            status=ItemStatus.LABELLED, consensus_label=label, consensus_confidence=confidence
        )
        offset += count
    return ids


def freeze(project, **params) -> DatasetVersion:
    return dataset_version_freeze(
        project=project, policy=policy_from_params(params), name=params.get("name", "")
    )


def body(chunks) -> bytes:
    return b"".join(chunks)


def bulk_labelled_items(project, n: int, *, prefix: str, labels=("pos", "neg")) -> None:
    """Many consensus-labelled text items straight into the table (one executemany; skips ingress profiling)."""
    from django.db import models
    from django.utils import timezone

    from datasets.bulkcopy import insert_rows

    now = timezone.now()
    template = Item(
        project=project,
        status=ItemStatus.LABELLED,
        consensus_confidence=0.8,
        tags=["bulk"],
        created_at=now,
        updated_at=now,
    )
    columns = [field.attname for field in Item._meta.concrete_fields if not field.primary_key]
    per_row = ("external_id", "text", "sha256", "metadata", "consensus_label")
    fields = {field.attname: field for field in Item._meta.concrete_fields}
    # get_prep_value turns e.g. the empty FieldFile into "" (JSON columns stay Python: insert_rows encodes them).
    fixed = {
        name: getattr(template, name)
        if isinstance(fields[name], models.JSONField)
        else fields[name].get_prep_value(getattr(template, name))
        for name in columns
        if name not in per_row
    }

    def row(i: int) -> tuple:
        varying = {
            "external_id": f"{prefix}{i}",
            "text": f"review {prefix}{i} of a perfectly ordinary product",
            "sha256": f"{prefix}{i:060d}"[-64:],
            "metadata": {"source": "bulk", "n": i},
            "consensus_label": labels[i % len(labels)],
        }
        return tuple(varying[name] if name in varying else fixed[name] for name in columns)

    insert_rows(model=Item, columns=columns, rows=(row(i) for i in range(n)))
