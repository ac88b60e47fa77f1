"""Object-level access: who may do what in which project.

Non-members get 404 (a project's existence is not revealed); members below the needed role get 403.
"""

from typing import Protocol, cast

from django.contrib.auth.models import AnonymousUser, User

from annotation.models import Membership, Project, Role
from core.errors import Forbidden, NotFound

# Every project-scoped request runs this; written as SQL because the ORM spent ~1 ms of CPU composing the
# select_related query, a tenth of a labelling request. The project comes back as the model, the membership's
# columns beside it; created_at is left deferred (nothing on a request path reads it).
_LATEST_GUIDELINE = (
    "(SELECT guideline.{column} FROM annotation_guideline guideline WHERE guideline.project_id = "
    "annotation_project.id ORDER BY guideline.version DESC LIMIT 1)"
)
_MEMBERSHIP_SQL = (
    "SELECT annotation_project.*, membership.id AS membership_id, membership.role AS membership_role, "
    "membership.acknowledged_guideline_version AS membership_acknowledged, "
    f"{_LATEST_GUIDELINE.format(column='id')} AS latest_guideline_id, "
    f"{_LATEST_GUIDELINE.format(column='version')} AS latest_guideline_version "
    "FROM annotation_membership membership "
    "JOIN annotation_project ON annotation_project.id = membership.project_id "
    "WHERE membership.user_id = %s AND membership.project_id = %s"
)
_MEMBERSHIP_FIELDS = ["id", "user_id", "project_id", "role", "acknowledged_guideline_version"]


class _MembershipColumns(Protocol):
    """The columns _MEMBERSHIP_SQL selects beside the project's own: raw() sets them as attributes."""

    membership_id: int
    membership_role: str
    membership_acknowledged: int
    latest_guideline_id: int | None
    latest_guideline_version: int | None


def membership_for(*, user: User | AnonymousUser, project_id: int) -> Membership | None:
    """The user's membership with its project loaded, or None. One query.

    The membership also carries ``latest_guideline_id`` and ``latest_guideline_version``, the project's newest
    guideline (None when it has none), read in the same query for the labelling endpoints: ``next`` checks the
    acknowledgement against it, a submission records it.
    """
    if not user.is_authenticated:
        return None
    project = next(iter(Project.objects.raw(_MEMBERSHIP_SQL, [user.pk, project_id])), None)
    if project is None:
        return None
    columns = cast(_MembershipColumns, project)
    membership = Membership.from_db(
        project._state.db,
        _MEMBERSHIP_FIELDS,
        [columns.membership_id, user.pk, project.pk, columns.membership_role, columns.membership_acknowledged],
    )
    membership.user = user
    membership.project = project
    membership.latest_guideline_id = columns.latest_guideline_id
    membership.latest_guideline_version = columns.latest_guideline_version
    return membership


def project_for_role(*, user: User | AnonymousUser, project_id: int, role: str) -> tuple[Project, Membership | None]:
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
