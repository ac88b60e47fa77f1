"""The job foreign keys point at core.Job, the same table: a state change only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("activelearning", "0001_initial"),
        ("core", "0001_job_from_annotation"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="modelversion",
                    name="job",
                    field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="al_model_version", to="core.job"),
                ),
                migrations.AlterField(
                    model_name="prediction",
                    name="job",
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="core.job"),
                ),
            ],
            database_operations=[],
        ),
    ]
