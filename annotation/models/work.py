from django.conf import settings
from django.db import models
from django.db.models import Q

from annotation.models.item import Item
from annotation.models.project import Guideline, Project


class AssignmentState(models.TextChoices):
    ACTIVE = "active", "Active lease"
    DONE = "done", "Annotated"
    SKIPPED = "skipped", "Skipped"
    EXPIRED = "expired", "Expired"


class Assignment(models.Model):
    """An item given to one annotator. One row per (item, annotator): the queue never serves an item twice."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="assignments")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments"
    )
    state = models.CharField(max_length=16, choices=AssignmentState.choices, default=AssignmentState.ACTIVE)
    is_gold = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "annotator"], name="assignment_unique_item_annotator")
        ]
        indexes = [
            models.Index(fields=["annotator", "project", "state"], name="assignment_annotator_idx"),
            models.Index(fields=["item", "state", "expires_at"], name="assignment_item_state_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}→{self.annotator_id} ({self.state})"


class Annotation(models.Model):
    """Append-only. An edit is a new row; the old one loses ``is_live`` and is pointed to by ``supersedes``."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="annotations")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="annotations"
    )
    assignment = models.ForeignKey(
        Assignment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    labels = models.JSONField(default=list)
    unsure = models.BooleanField(default=False)
    unusable = models.BooleanField(default=False)
    comment = models.TextField(blank=True)
    lead_time_ms = models.PositiveIntegerField(null=True, blank=True)
    guideline = models.ForeignKey(
        Guideline, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    guideline_version = models.PositiveIntegerField(default=0)
    client_id = models.UUIDField(null=True, blank=True)
    is_live = models.BooleanField(default=True)
    supersedes = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["item", "annotator"],
                condition=Q(is_live=True),
                name="annotation_one_live_per_annotator",
            ),
            models.UniqueConstraint(fields=["annotator", "client_id"], name="annotation_unique_client_id"),
        ]
        indexes = [
            models.Index(fields=["project", "is_live", "item"], name="annotation_project_live_idx"),
            models.Index(fields=["annotator", "project", "created_at"], name="annotation_annotator_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.annotator_id} on {self.item_id}: {self.labels}"
