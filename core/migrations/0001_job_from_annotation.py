"""The Job model moves here from annotation, rows and all: only the migration state changes; the table stays
``annotation_job`` until 0002 renames it."""

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import core.job_kinds


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("annotation", "0009_item_pass_marks"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Job",
                    fields=[
                        ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ("kind", models.CharField(choices=core.job_kinds.job_kind_choices, max_length=32)),
                        ("task_name", models.CharField(max_length=100)),
                        ("params", models.JSONField(blank=True, default=dict)),
                        ("status", models.CharField(choices=[("queued", "Queued"), ("running", "Running"), ("succeeded", "Succeeded"), ("failed", "Failed")], default="queued", max_length=16)),
                        ("progress", models.FloatField(default=0.0)),
                        ("message", models.CharField(blank=True, max_length=300)),
                        ("result", models.JSONField(blank=True, null=True)),
                        ("error", models.TextField(blank=True)),
                        ("attempts", models.PositiveIntegerField(default=0)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("started_at", models.DateTimeField(blank=True, null=True)),
                        ("heartbeat_at", models.DateTimeField(blank=True, null=True)),
                        ("finished_at", models.DateTimeField(blank=True, null=True)),
                        ("enqueued_at", models.DateTimeField(blank=True, null=True)),
                        ("created_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL)),
                        ("project", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="jobs", to="annotation.project")),
                    ],
                    options={
                        "db_table": "annotation_job",
                        "ordering": ["-created_at"],
                        "indexes": [
                            models.Index(fields=["status", "heartbeat_at"], name="job_status_idx"),
                            models.Index(fields=["project", "kind", "-created_at"], name="job_project_kind_idx"),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
