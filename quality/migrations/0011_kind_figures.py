from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("quality", "0010_job_foreign_keys_to_core"),
    ]

    operations = [
        migrations.AddField(
            model_name="qualityreport",
            name="kind_figures",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="annotatorquality",
            name="kind_figures",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
