# The batch table takes ingress's name (annotation_importbatch → ingress_importbatch). Item.batch's foreign key
# follows the renamed table (PostgreSQL references tables by oid; SQLite rewrites the references on rename).
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('ingress', '0001_importbatch_moved_from_annotation'),
        ('annotation', '0012_importbatch_moved_to_ingress'),
    ]

    operations = [
        migrations.AlterModelTable(name='importbatch', table=None),
    ]
