"""``DatasetVersion.label_schema``: added, backfilled for versions frozen before it, and made immutable.

Old versions get the schema their freeze would have written (parent's classes first, then the project's labels
in order, then other values their entries hold), version by version in number order. The frozen-version trigger
is re-created with the new column among the content fields (SQLite drops a table's triggers when AddField
rebuilds it, so it is dropped first on both databases and re-created after the backfill).
"""

from django.db import migrations, models

from datasets.labelschema import ProjectLabel, label_schema_build

CONTENT_FIELDS = [
    "project_id", "number", "parent_id", "job_id", "created_at", "policy", "n_entries", "counts", "split_counts",
    "label_distribution", "split_label_counts", "metrics", "guideline_version", "checksum",
]
NO_LABEL_KEY = "(none)"  # datasets.services: the multi-label distribution's key for an empty label list


def _trigger(vendor: str, fields: list[str]) -> str | None:
    if vendor == "postgresql":
        return (
            "CREATE TRIGGER datasets_version_frozen BEFORE UPDATE ON datasets_datasetversion FOR EACH ROW WHEN "
            "(OLD.checksum <> '' AND (" + " OR ".join(f"NEW.{name} IS DISTINCT FROM OLD.{name}" for name in fields)
            + ")) EXECUTE FUNCTION datasets_refuse_change();"
        )
    if vendor == "sqlite":
        return (
            "CREATE TRIGGER datasets_version_frozen BEFORE UPDATE ON datasets_datasetversion WHEN OLD.checksum <> '' AND ("
            + " OR ".join(f"NEW.{name} IS NOT OLD.{name}" for name in fields)
            + ") BEGIN SELECT RAISE(ABORT, 'dataset versions are immutable: UPDATE on datasets_datasetversion is not allowed'); END;"
        )
    return None


def _drop(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS datasets_version_frozen ON datasets_datasetversion;", params=None)
    elif vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS datasets_version_frozen;", params=None)


def _create(schema_editor, fields: list[str]) -> None:
    statement = _trigger(schema_editor.connection.vendor, fields)
    if statement:
        schema_editor.execute(statement, params=None)


def drop_trigger(apps, schema_editor):
    _drop(schema_editor)


def restore_old_trigger(apps, schema_editor):
    _create(schema_editor, CONTENT_FIELDS)


def create_trigger(apps, schema_editor):
    _create(schema_editor, [*CONTENT_FIELDS, "label_schema"])


def drop_new_trigger(apps, schema_editor):
    _drop(schema_editor)


def backfill(apps, schema_editor):
    DatasetVersion = apps.get_model("datasets", "DatasetVersion")
    Label = apps.get_model("annotation", "Label")
    Project = apps.get_model("annotation", "Project")
    project_ids = DatasetVersion.objects.values_list("project_id", flat=True).distinct()
    for project in Project.objects.filter(pk__in=list(project_ids)):
        labels = [
            ProjectLabel(value=row.value, description=row.description, is_active=row.is_active, replaced_by=row.replaced_by)
            for row in Label.objects.filter(project=project).order_by("order", "id")
        ]
        schemas: dict[int, dict] = {}
        for version in DatasetVersion.objects.filter(project=project).order_by("number", "id"):
            seen = [value for value in (version.label_distribution or {}) if value != NO_LABEL_KEY]
            version.label_schema = label_schema_build(
                project_labels=labels, multi_label=project.multi_label, parent=schemas.get(version.parent_id), seen=seen,
            )
            schemas[version.pk] = version.label_schema
            version.save(update_fields=["label_schema"])


class Migration(migrations.Migration):
    dependencies = [("datasets", "0002_immutability_triggers"), ("annotation", "0008_label_replaced_by")]

    operations = [
        migrations.RunPython(drop_trigger, restore_old_trigger),
        migrations.AddField(model_name="datasetversion", name="label_schema", field=models.JSONField(default=dict)),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.RunPython(create_trigger, drop_new_trigger),
    ]
