from rest_framework.views import APIView

from annotation.models import Project, Role
from core.permissions import Access, project_for_role


class ProjectScopedApi(APIView):
    """An API view inside one project; ``required_role`` is checked for every method."""

    required_role: str = Role.ANNOTATOR

    def project_for(self, request, pid: int, role: str | None = None) -> tuple[Project, Access | None]:
        return project_for_role(user=request.user, project_id=pid, role=role or self.required_role)
