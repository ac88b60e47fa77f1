from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("annotation", "0013_project_task_type_choices_from_kinds"),
    ]

    operations = [
        migrations.AddField(
            model_name="label",
            name="colour",
            field=models.CharField(blank=True, max_length=7),
        ),
    ]
