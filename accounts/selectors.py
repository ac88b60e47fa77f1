from django.db.models import QuerySet

from accounts.models import Invite, MemberEvent
from annotation.models import Membership, Project


def member_events_for_project(*, project: Project) -> QuerySet[MemberEvent]:
    return MemberEvent.objects.filter(project=project).select_related("actor").order_by("-created_at", "-id")


def invites_open_for_project(*, project: Project, now) -> QuerySet[Invite]:
    return (
        Invite.objects.filter(project=project, used_at__isnull=True, expires_at__gt=now)
        .select_related("created_by")
        .order_by("-created_at", "-id")
    )


def membership_in_project(*, project: Project, user_id: int) -> Membership | None:
    return project.memberships.select_related("user", "project").filter(user_id=user_id).first()
