"""ImportBatch.job points at core.Job, the same table: a state change only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("annotation", "0009_item_pass_marks"),
        ("core", "0001_job_from_annotation"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="importbatch",
                    name="job",
                    field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="import_batch", to="core.job"),
                ),
            ],
            database_operations=[],
        ),
    ]
