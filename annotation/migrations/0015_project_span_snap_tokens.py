from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("annotation", "0014_label_colour"),
    ]

    operations = [
        migrations.AddField(
            model_name="project",
            name="span_snap_tokens",
            field=models.BooleanField(default=True),
        ),
    ]
