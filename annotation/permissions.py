"""Object-level access: who may do what in which project.

Non-members get 404 (a project's existence is not revealed); members below the needed role get 403.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from annotation.errors import Forbidden, NotFound
from annotation.models import Membership, Project, Role


def membership_for(*, user: AbstractBaseUser | AnonymousUser, project_id: int) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, project_id=project_id).select_related("project").first()


def project_for_role(*, user: AbstractBaseUser | AnonymousUser, project_id: int, role: str) -> tuple[Project, Membership | None]:
    """Return the project and the caller's membership, or raise.

    Staff users act as managers everywhere (membership may then be None).
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


ANNOTATOR = Role.ANNOTATOR
REVIEWER = Role.REVIEWER
MANAGER = Role.MANAGER
