"""Project-page panels contributed by higher apps without the annotation app importing them.

A higher app registers ``(template_name, context_function)`` in its AppConfig.ready(); the project page renders
each panel the viewer's role allows. Context functions must run a constant number of queries.
"""

from collections.abc import Callable
from dataclasses import dataclass

from annotation.models import Project, Role


@dataclass(frozen=True)
class Panel:
    name: str
    template: str
    context: Callable[..., dict]
    min_role: str = Role.REVIEWER
    order: int = 100
    # Where the panel shows: "project" (project page), "guideline" (guideline editor), "label" (the labelling
    # page's guideline panel), "review-item" (the reviewer's item page; the context function also gets ``item``).
    place: str = "project"


PANELS: list[Panel] = []


def register_panel(panel: Panel) -> None:
    if all(existing.name != panel.name for existing in PANELS):
        PANELS.append(panel)
        PANELS.sort(key=lambda p: p.order)


def panels_for(
    *, project: Project, user, membership_role: str, place: str = "project", **page_objects
) -> list[dict]:
    """The panels of ``place`` the role may see, rendered to ``{"template", "context"}``; ``page_objects`` (e.g.
    ``item=``) are passed on to each context function."""
    from annotation.models.project import ROLE_RANK

    rank = ROLE_RANK[Role(membership_role)]
    rendered = []
    for panel in PANELS:
        if panel.place == place and rank >= ROLE_RANK[Role(panel.min_role)]:
            rendered.append(
                {
                    "template": panel.template,
                    "context": panel.context(
                        project=project, user=user, role=membership_role, **page_objects
                    ),
                }
            )
    return rendered
