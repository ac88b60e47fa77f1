"""The job foreign keys point at core.Job, the same table: a state change only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("quality", "0009_annotatorquality_agreement_counts"),
        ("core", "0001_job_from_annotation"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="labelschemachange",
                    name="quality_job",
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="core.job"),
                ),
                migrations.AlterField(
                    model_name="qualityreport",
                    name="job",
                    field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="quality_report", to="core.job"),
                ),
            ],
            database_operations=[],
        ),
    ]
