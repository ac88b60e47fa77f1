import uuid

from django.conf import settings
from django.db import models

from core.job_kinds import job_kind_choices


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


TERMINAL_STATUSES = (JobStatus.SUCCEEDED, JobStatus.FAILED)


class Job(models.Model):
    """Every background job. The row exists before the task is enqueued; the task moves its status."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=32, choices=job_kind_choices)
    task_name = models.CharField(max_length=100)
    project = models.ForeignKey(
        "annotation.Project", null=True, blank=True, on_delete=models.CASCADE, related_name="jobs"
    )
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.FloatField(default=0.0)
    message = models.CharField(max_length=300, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "heartbeat_at"], name="job_status_idx"),
            models.Index(fields=["project", "kind", "-created_at"], name="job_project_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def outcome(self) -> str | None:
        """How a finished job went, for pages and the API: ``failed``; ``completed_with_errors`` when it
        succeeded but reported errors (rows of an import it could not use); else ``completed``. None while
        queued or running."""
        if self.status == JobStatus.FAILED:
            return "failed"
        if self.status != JobStatus.SUCCEEDED:
            return None
        result = self.result if isinstance(self.result, dict) else {}
        if result.get("outcome") in ("completed", "completed_with_errors"):
            return result["outcome"]
        return "completed_with_errors" if result.get("errors") or result.get("file_error") else "completed"
