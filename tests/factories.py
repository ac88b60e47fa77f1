import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

from accounts.models import PROJECT_CREATORS_GROUP
from annotation.models import Membership, Project, Role
from annotation.services.projects import LabelSpec, project_create
from ingress.services.bulk import item_bulk_create

PASSWORD = "correct-horse-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805 - factory_boy hook signature
        if create:
            obj.save()

    @factory.post_generation
    def project_creator(obj, create, extracted, **kwargs):  # noqa: N805 - factory_boy hook signature
        """``UserFactory(project_creator=True)``: a member of the "project creators" group, who may create
        projects. The group comes from a data migration; a live-server test's flush empties it, so it is made
        again here with the permission the migration gives it."""
        if create and extracted:
            group, _ = Group.objects.get_or_create(name=PROJECT_CREATORS_GROUP)
            group.permissions.add(
                Permission.objects.get(content_type__app_label="annotation", codename="add_project")
            )
            obj.groups.add(group)


def make_project(
    *,
    manager=None,
    labels=("pos", "neg", "neutral"),
    k: int = 3,
    multi_label: bool = False,
    task_type: str = "text_classification",
    **fields,
) -> Project:
    manager = manager or UserFactory()
    return project_create(
        user=manager,
        name=fields.pop("name", "Sentiment"),
        task_type=task_type,
        labels=[LabelSpec(value=value) for value in labels],
        multi_label=multi_label,
        annotations_per_item=k,
        guidelines=fields.pop("guidelines", "# Rules\nLabel the **overall** sentiment."),
        **fields,
    )


def add_member(project: Project, role: str = Role.ANNOTATOR, user=None):
    user = user or UserFactory()
    current = project.guidelines.order_by("-version").values_list("version", flat=True).first() or 0
    Membership.objects.create(user=user, project=project, role=role, acknowledged_guideline_version=current)
    return user


def add_items(project: Project, n: int, *, prefix: str = "t", tags=None, start: int = 0) -> None:
    rows = [
        {"external_id": f"{prefix}{i}", "text": f"text number {i}", "tags": tags or []}
        for i in range(start, start + n)
    ]
    for offset in range(0, len(rows), 10_000):
        result = item_bulk_create(project=project, rows=rows[offset : offset + 10_000])
        assert not result.errors, result.errors
