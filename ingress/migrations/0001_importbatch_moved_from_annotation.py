# ImportBatch moves from annotation to ingress keeping its rows: this records the model in ingress's state on
# the existing table (nothing is run on the database); 0002 then renames the table.
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('annotation', '0011_job_moved_to_core'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ImportBatch',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('number', models.PositiveIntegerField()),
                        ('source', models.CharField(blank=True, max_length=300)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('n_created', models.PositiveIntegerField(default=0)),
                        ('n_duplicates', models.PositiveIntegerField(default=0)),
                        ('n_errors', models.PositiveIntegerField(default=0)),
                        ('profile_summary', models.JSONField(blank=True, default=dict)),
                        ('drift', models.JSONField(blank=True, default=list)),
                        ('summary_state', models.JSONField(blank=True, default=dict, editable=False)),
                        ('job', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='import_batch', to='core.job')),
                        ('project', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='batches', to='annotation.project')),
                    ],
                    options={
                        'db_table': 'annotation_importbatch',
                        'constraints': [models.UniqueConstraint(fields=('project', 'number'), name='batch_unique_number')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
