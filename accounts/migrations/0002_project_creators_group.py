from django.db import migrations

GROUP = "project creators"


def create_group(apps, schema_editor):
    # Written out rather than waiting for post_migrate: the "add project" permission must exist for the group now.
    content_type_model = apps.get_model("contenttypes", "ContentType")
    permission_model = apps.get_model("auth", "Permission")
    group_model = apps.get_model("auth", "Group")
    content_type, _ = content_type_model.objects.get_or_create(app_label="annotation", model="project")
    permission, _ = permission_model.objects.get_or_create(
        content_type=content_type, codename="add_project", defaults={"name": "Can add project"}
    )
    group, _ = group_model.objects.get_or_create(name=GROUP)
    group.permissions.add(permission)


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_invites_and_member_events"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("annotation", "0015_project_span_snap_tokens"),
    ]

    operations = [migrations.RunPython(create_group, remove_group)]
