from django.db import models

from annotation.models import Project


class ImportBatch(models.Model):
    """One ingress run (a bulk call or an uploaded file) with its profile summary."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="batches")
    number = models.PositiveIntegerField()
    source = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    n_created = models.PositiveIntegerField(default=0)
    n_duplicates = models.PositiveIntegerField(default=0)
    n_errors = models.PositiveIntegerField(default=0)
    profile_summary = models.JSONField(default=dict, blank=True)
    drift = models.JSONField(default=list, blank=True)
    # Mergeable profile summary (``ingress.profile_summary.BatchSummary``) of the batch: the baseline for later batches'
    # drift. ``profile_summary`` holds the compact figures pages and the API show.
    summary_state = models.JSONField(default=dict, blank=True, editable=False)
    # The import job that filled this batch: a retried job reuses its batch instead of opening another.
    job = models.OneToOneField(
        "core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="import_batch"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "number"], name="batch_unique_number")]

    def __str__(self) -> str:
        return f"batch {self.number}"
