# ImportBatch now belongs to ingress (ingress 0001 took it over on the same table): Item.batch points there and
# the model leaves annotation's state. Nothing is run on the database; the rows and the foreign key stay.
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('annotation', '0011_job_moved_to_core'),
        ('ingress', '0001_importbatch_moved_from_annotation'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='item',
                    name='batch',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='items', to='ingress.importbatch'),
                ),
                migrations.DeleteModel(name='ImportBatch'),
            ],
            database_operations=[],
        ),
    ]
