"""Changing and ending a membership. A project always keeps a manager: without one, nobody but staff could
change its settings or its people again."""

from django.db import transaction

from annotation import hotpath_cache
from annotation.models import Membership, Role
from annotation.services.projects import membership_set
from annotation.services.queue import items_close_exhausted
from core.errors import ValidationFailed


def _other_managers(*, membership: Membership) -> bool:
    return (
        Membership.objects.select_for_update()
        .filter(project_id=membership.project_id, role=Role.MANAGER)
        .exclude(pk=membership.pk)
        .exists()
    )


@transaction.atomic
def membership_role_change(*, membership: Membership, role: str) -> Membership:
    """Give a member another role. Raises ValidationFailed (field ``role``) for an unknown role or for taking
    the manager role from the project's last manager."""
    if role not in Role.values:
        raise ValidationFailed(f"Unknown role; choose one of {', '.join(Role.values)}.", field="role")
    if (
        membership.role == Role.MANAGER
        and role != Role.MANAGER
        and not _other_managers(membership=membership)
    ):
        raise ValidationFailed(
            f"{membership.user.username} is the project's last manager; make someone else a manager first.",
            field="role",
        )
    return membership_set(project=membership.project, user_id=membership.user_id, role=role)


@transaction.atomic
def membership_remove(*, membership: Membership) -> None:
    """End a membership. Raises ValidationFailed (field ``user``) for the project's last manager."""
    if membership.role == Role.MANAGER and not _other_managers(membership=membership):
        raise ValidationFailed(
            f"{membership.user.username} is the project's last manager and cannot be removed; "
            "make someone else a manager first.",
            field="user",
        )
    project = membership.project
    was_annotator = membership.role == Role.ANNOTATOR
    membership.delete()
    hotpath_cache.project_changed(project_id=project.pk)
    # Items only this person could still have annotated must not wait for them.
    if was_annotator:
        items_close_exhausted(project=project)
