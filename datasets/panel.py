"""The project-page panel: the latest versions and a link to the datasets page (two queries)."""

from annotation.models import Project
from datasets.models import DatasetVersion


def panel_context(*, project: Project, user, role: str) -> dict:
    versions = list(DatasetVersion.objects.filter(project=project).order_by("-number")[:3])
    return {"project": project, "versions": versions, "count": DatasetVersion.objects.filter(project=project).count()}
