"""The project-page panel linking to the dashboard. Importing this module registers it (``QualityConfig.ready``
imports it); the context runs no query."""

from annotation.models import Project, Role
from core.panels import Panel, register_panel


def dashboard_panel_context(*, project: Project, user, role: str) -> dict:
    return {"project": project}


register_panel(
    Panel(
        name="dashboard",
        template="quality/dashboard/panel.html",
        context=dashboard_panel_context,
        min_role=Role.REVIEWER,
        order=10,
    )
)
