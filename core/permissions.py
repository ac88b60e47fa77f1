"""Object-level access: who may do what in which project.

Non-members get 404 (a project's existence is not revealed); members below the needed role get 403.
"""

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User

import annotation.hotpath_cache as hotpath_cache
import annotation.hotpath_sql as hotpath_sql
from annotation.models import Membership, Project, Role
from annotation.models.project import ROLE_RANK
from core.errors import Forbidden, NotFound


@dataclass(frozen=True)
class Access:
    """A member's access to a project: the project, their membership, and the project's newest guideline (what
    ``next`` checks the acknowledgement against and a submission records). ``latest_guideline_id`` and
    ``latest_guideline_version`` are None when the project has no guideline."""

    project: Project
    membership_id: int
    user_id: int
    role: str
    acknowledged_guideline_version: int
    latest_guideline_id: int | None
    latest_guideline_version: int | None

    @property
    def project_id(self) -> int:
        return self.project.pk

    def has_role(self, role: str) -> bool:
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(role)]


def _access_read(*, user_id: int, project_id: int) -> Access | None:
    found = hotpath_sql.membership_row(user_id=user_id, project_id=project_id)
    if found is None:
        return None
    project, row = found
    return Access(
        project=project,
        membership_id=row["membership_id"],
        user_id=user_id,
        role=row["membership_role"],
        acknowledged_guideline_version=row["membership_acknowledged"],
        latest_guideline_id=row["latest_guideline_id"],
        latest_guideline_version=row["latest_guideline_version"],
    )


def membership_for(*, user: User | AnonymousUser, project_id: int) -> Access | None:
    """The user's access to the project, or None when they are not a member (or not signed in).

    Cached per (project, user) until the project's version is bumped (``annotation.hotpath_cache``); one query
    when not cached."""
    if not user.is_authenticated:
        return None
    user_id, project_id = user.pk, int(project_id)
    return hotpath_cache.cached(
        key=f"hotpath:access:{project_id}:{user_id}",
        versions=(hotpath_cache.project_version_key(project_id),),
        load=lambda: _access_read(user_id=user_id, project_id=project_id),
    )


def project_for_role(
    *, user: User | AnonymousUser, project_id: int, role: str
) -> tuple[Project, Access | None]:
    """Return the project and the caller's access to it, or raise.

    Staff users act as managers everywhere (access may then be None).
    Raises NotFound when the project does not exist or the user is not a member; Forbidden when the role is too low.
    """
    membership = membership_for(user=user, project_id=project_id)
    if membership is None:
        if getattr(user, "is_staff", False):
            project = Project.objects.filter(pk=project_id).first()
            if project is not None:
                return project, None
        raise NotFound("Project not found.")
    if not membership.has_role(role):
        raise Forbidden(f"This needs the {role} role in the project; you are {membership.role}.")
    return membership.project, membership


def require_member_manager(*, user: User) -> None:
    """Who may look users up to add them as members: staff, and managers of at least one project.

    The caller is signed in (the API's IsAuthenticated runs first). Raises Forbidden otherwise."""
    if getattr(user, "is_staff", False):
        return
    if not Membership.objects.filter(user_id=user.pk, role=Role.MANAGER).exists():
        raise Forbidden("Looking users up needs the manager role in a project.")


ANNOTATOR = Role.ANNOTATOR
REVIEWER = Role.REVIEWER
MANAGER = Role.MANAGER


# The site-level permission to create projects: Django's own "add project" permission, which the
# "project creators" group holds (accounts' data migration), so site staff can grant it to any group or person.
CREATE_PROJECT_PERMISSION = "annotation.add_project"


def may_create_projects(*, user: User | AnonymousUser) -> bool:
    return bool(user.is_authenticated and (user.is_staff or user.has_perm(CREATE_PROJECT_PERMISSION)))


def require_project_creator(*, user: User | AnonymousUser) -> None:
    """Raises Forbidden, in words, for a user who may not create projects."""
    if not may_create_projects(user=user):
        raise Forbidden(
            "Creating projects needs site staff or membership of the “project creators” group; "
            "ask a site administrator."
        )
