"""Fill ``annotation.Label.replaced_by`` from the recorded merges and renames of existing projects."""

from django.db import migrations


def _compose(mappings):
    # Oldest first; a later change of a target moves every label that pointed at it (chains resolved).
    resolved = {}
    for mapping in mappings:
        for source, target in mapping.items():
            for key, value in resolved.items():
                if value == source:
                    resolved[key] = target
            resolved[source] = target
    return {source: target for source, target in resolved.items() if source != target}


def forwards(apps, schema_editor):
    change_model = apps.get_model("quality", "LabelSchemaChange")
    label_model = apps.get_model("annotation", "Label")
    by_project = {}
    for project_id, mapping in change_model.objects.order_by("created_at", "id").values_list("project_id", "mapping"):
        if mapping:
            by_project.setdefault(project_id, []).append(mapping)
    for project_id, mappings in by_project.items():
        for source, target in _compose(mappings).items():
            label_model.objects.filter(project_id=project_id, value=source, is_active=False).update(replaced_by=target)


class Migration(migrations.Migration):

    dependencies = [
        ("annotation", "0008_label_replaced_by"),
        ("quality", "0006_flag_model"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
