from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("annotation", "0007_item_consensus_suggestion"),
    ]

    operations = [
        migrations.AddField(
            model_name="label",
            name="replaced_by",
            field=models.CharField(blank=True, max_length=100),
        ),
    ]
