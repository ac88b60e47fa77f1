"""Once every foreign key points at core.Job, its table takes core's name (``core_job``, the default for the
model). Foreign keys and indexes follow a renamed table; the content type is renamed so permissions granted on
jobs stay granted."""

from django.db import migrations


def content_type_to(app_label: str, other: str):
    def move(apps, schema_editor):
        content_types = apps.get_model("contenttypes", "ContentType").objects.using(schema_editor.connection.alias)
        # A database that already has the target (created by a later post-migrate) keeps both rather than fail.
        if not content_types.filter(app_label=app_label, model="job").exists():
            content_types.filter(app_label=other, model="job").update(app_label=app_label)

    return move


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0001_job_from_annotation"),
        ("annotation", "0011_job_moved_to_core"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AlterModelTable(name="job", table=None),
        migrations.RunPython(content_type_to("core", "annotation"), content_type_to("annotation", "core")),
    ]
