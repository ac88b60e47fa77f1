from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("annotation", "0006_item_flag_model"),
    ]

    operations = [
        migrations.AddField(
            model_name="item",
            name="consensus_suggestion",
            field=models.JSONField(blank=True, null=True),
        ),
    ]
