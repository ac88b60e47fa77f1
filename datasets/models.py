"""Immutable dataset versions.

A version and all its entries are written in one transaction by ``datasets.services.dataset_version_freeze``
and never changed afterwards. The database enforces that (migration 0002): on PostgreSQL triggers reject any
UPDATE or DELETE of an entry, any DELETE of a version and any UPDATE of a version's content fields once its
checksum is set; on SQLite the UPDATE half is enforced (DELETE triggers would break test flushes, which use
DELETE there). An operator removing a whole project on PostgreSQL can ``SET LOCAL labelgate.dataset_purge =
'on'`` in that transaction to let the deletes through.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from annotation.models import Item, Project


class Split(models.TextChoices):
    TRAIN = "train", "Train"
    DEV = "dev", "Dev"
    TEST = "test", "Test"


class LabelSource(models.TextChoices):
    REVIEW = "review", "Review decision"
    CONSENSUS = "consensus", "Consensus"


class DatasetVersion(models.Model):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="dataset_versions")
    number = models.PositiveIntegerField()
    name = models.CharField(max_length=200, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # The freeze job that made this version; unique so a redelivered job never makes a second version.
    job_id = models.UUIDField(null=True, blank=True, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    policy = models.JSONField(default=dict)
    n_entries = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict)
    split_counts = models.JSONField(default=dict)
    label_distribution = models.JSONField(default=dict)
    split_label_counts = models.JSONField(default=dict)
    metrics = models.JSONField(default=dict)
    guideline_version = models.PositiveIntegerField(null=True, blank=True)
    # The class list the exports describe themselves with (datasets.labelschema): ids stable across versions.
    label_schema = models.JSONField(default=dict)
    # sha256 (hex) of the canonical export: the full JSONL download (all splits), byte for byte.
    checksum = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["project", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="datasetversion_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.project_id} v{self.number}"


class DatasetEntry(models.Model):
    """One item in one version, with the lineage of its label.

    The foreign keys have no database constraint on purpose: PostgreSQL checks one by locking the referenced
    row (FOR KEY SHARE), which for a million-entry freeze rewrites every item's tuple header and doubled the
    freeze time. Entries are never deleted (trigger), Django's PROTECT keeps items from being deleted through
    the ORM, and an entry's ``line`` holds its whole exported row, so it stays meaningful on its own.
    """

    version = models.ForeignKey(
        DatasetVersion, on_delete=models.PROTECT, related_name="entries", db_constraint=False
    )
    item = models.ForeignKey(
        Item, on_delete=models.PROTECT, related_name="dataset_entries", db_constraint=False
    )
    external_id = models.CharField(max_length=255)
    label = models.JSONField()
    label_source = models.CharField(max_length=16, choices=LabelSource.choices)
    split = models.CharField(max_length=8, choices=Split.choices)
    confidence = models.FloatField(null=True, blank=True)
    content_sha256 = models.CharField(max_length=64, blank=True)
    annotation_ids = models.JSONField(default=list, blank=True)
    decision_id = models.BigIntegerField(null=True, blank=True)
    guideline_version = models.PositiveIntegerField(null=True, blank=True)
    # The entry's export row as canonical JSON (text, not jsonb, so the bytes are kept exactly): every export
    # is derived from it, so a frozen version's content never changes even if the item is edited later.
    line = models.TextField()

    class Meta:
        # (version, item) serves exports in canonical order, per split too (a split filter on that scan was
        # cheaper overall than maintaining a third index during a million-row freeze).
        constraints = [models.UniqueConstraint(fields=["version", "item"], name="datasetentry_unique_item")]

    def __str__(self) -> str:
        return f"{self.external_id} → {self.label} ({self.split})"


class SplitAssignment(models.Model):
    """The split an item got the first time it entered a dataset of its project; it keeps it for good."""

    # No database constraints, for the reason given on DatasetEntry.
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+", db_constraint=False)
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+", db_constraint=False)
    split = models.CharField(max_length=8, choices=Split.choices)
    first_version = models.ForeignKey(
        DatasetVersion, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "item"], name="splitassignment_unique_item"),
            models.CheckConstraint(
                condition=Q(split__in=["train", "dev", "test"]), name="splitassignment_split_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.split}"
