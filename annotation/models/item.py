from django.db import models
from django.db.models import Q

from annotation.models.project import Project


class ItemStatus(models.TextChoices):
    NEW = "new", "New"
    IN_PROGRESS = "in_progress", "In progress"
    LABELLED = "labelled", "Labelled"
    NEEDS_REVIEW = "needs_review", "Needs review"
    ACCEPTED = "accepted", "Accepted"
    DISCARDED = "discarded", "Discarded"


OPEN_STATUSES = (ItemStatus.NEW, ItemStatus.IN_PROGRESS)


def item_upload_to(instance: "Item", filename: str) -> str:
    return f"projects/{instance.project_id}/{instance.sha256[:2]}/{instance.sha256}/{filename}"


class Item(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="items")
    external_id = models.CharField(max_length=255)
    text = models.TextField(blank=True)
    file = models.FileField(upload_to=item_upload_to, max_length=500, blank=True)
    file_name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    # Looked up per project only (item_sha_idx). Bare indexes here and on near_dup_key (two b-trees each on
    # PostgreSQL, with the LIKE variant) served no query and slowed every insert.
    sha256 = models.CharField(max_length=64)
    near_dup_key = models.CharField(max_length=64, blank=True)
    near_dup_group = models.PositiveIntegerField(null=True, blank=True)
    # Compact MinHash sketch of the normalised text (32 x uint32), for project-wide near-duplicate search.
    minhash = models.BinaryField(null=True, blank=True, editable=False)
    metadata = models.JSONField(default=dict, blank=True)
    tags = models.JSONField(default=list, blank=True)
    profile = models.JSONField(default=dict, blank=True)
    flags = models.JSONField(default=list, blank=True)
    gold_label = models.JSONField(null=True, blank=True)
    is_gold = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=ItemStatus.choices, default=ItemStatus.NEW)
    priority = models.FloatField(default=0.0)
    target_annotations = models.PositiveSmallIntegerField(default=3)
    annotation_count = models.PositiveIntegerField(default=0)
    # The ingress run that brought the item in (ingress owns batches; the reference is by name, not an import).
    batch = models.ForeignKey(
        "ingress.ImportBatch", null=True, blank=True, on_delete=models.SET_NULL, related_name="items"
    )
    # Written by the quality layer (stored here so lower layers can read it without importing quality).
    consensus_label = models.JSONField(null=True, blank=True)
    consensus_confidence = models.FloatField(null=True, blank=True)
    final_label = models.JSONField(null=True, blank=True)
    label_quality = models.FloatField(null=True, blank=True)
    is_label_issue = models.BooleanField(default=False)
    issue_kinds = models.JSONField(default=list, blank=True)
    issue_severity = models.FloatField(default=0.0)
    # A label the consensus method ranks above every voted label although no annotator chose it. It is never
    # stored as ``consensus_label`` (which is always among the votes): reviewers see it as a suggestion next to
    # the ``model_overrides_annotators`` reason and must pick it explicitly.
    consensus_suggestion = models.JSONField(null=True, blank=True)
    # The model whose probabilities the last label-issue check used ("base model v3", "quality model · run #5")
    # and its top label for this item: ``model_disagrees`` is exactly "this label differs from the consensus",
    # and pages show this prediction, not the base model's, next to the flag.
    flag_model = models.CharField(max_length=120, blank=True)
    flag_model_label = models.JSONField(null=True, blank=True)
    # Written by the active-learning layer: the base model's latest prediction for this item.
    predicted_label = models.JSONField(null=True, blank=True)
    predicted_probs = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "external_id"], name="item_unique_external_id"),
        ]
        indexes = [
            # The queue scans open items of a project by priority then age.
            # Partial: only open items, so "status IN (new, in_progress) ORDER BY priority DESC, id" walks
            # the index in order and stops at the first servable row instead of sorting every open item.
            models.Index(
                "project",
                "is_gold",
                models.F("priority").desc(),
                "id",
                name="item_queue_open_idx",
                condition=Q(status__in=["new", "in_progress"]),
            ),
            models.Index(fields=["project", "status"], name="item_status_idx"),
            models.Index(fields=["project", "sha256"], name="item_sha_idx"),
            models.Index(
                fields=["project", "issue_severity"], condition=Q(is_label_issue=True), name="item_issue_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.external_id

    @property
    def media_kind(self) -> str:
        return self.project.task_type.split("_")[0] if self.file else "text"


class ItemTag(models.Model):
    """Slice membership for filtering and per-tag quality; mirrors ``Item.tags``."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="tag_rows")
    tag = models.CharField(max_length=100)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "tag"], name="itemtag_unique")]
        indexes = [models.Index(fields=["project", "tag"], name="itemtag_project_tag_idx")]

    def __str__(self) -> str:
        return self.tag
