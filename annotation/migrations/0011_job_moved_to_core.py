"""Job now belongs to core (core 0001 took it over with its table): drop it from annotation's state only, after
every foreign key to it points at core.Job."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("annotation", "0010_importbatch_job_to_core"),
        ("quality", "0010_job_foreign_keys_to_core"),
        ("activelearning", "0002_job_foreign_keys_to_core"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="Job")], database_operations=[]),
    ]
