"""Saved filters of the items browser: create (the query checked as the browser checks it) and delete."""

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.http import QueryDict

from annotation.models import Project, Role
from annotation.selectors import label_classes
from core.errors import Forbidden, NotFound, ValidationFailed
from core.permissions import Access
from quality.dashboard.forms import DashboardItemFilterForm
from quality.models import SavedItemFilter

MAX_NAME = 80


def saved_filter_query(*, project: Project, query: str) -> str:
    """``query`` keeping only the browser's filters that are set, in the form's order (``page`` and unknown
    parameters dropped). Raises ValidationFailed on the ``query`` field, naming the filter and what is wrong in
    it, when a filter has a value the browser refuses, or when no filter is set."""
    form = DashboardItemFilterForm(QueryDict(query), labels=label_classes(project=project))
    if not form.is_valid():
        problems = [
            f"{form.fields[name].label if name in form.fields else name}: {' '.join(str(error) for error in errors)}"
            for name, errors in form.errors.items()
        ]
        raise ValidationFailed("; ".join(problems), field="query")
    kept = QueryDict(mutable=True)
    for name in form.fields:
        value = form.data.get(name, "")
        if value and not name.endswith(("_from", "_to")):
            kept[name] = value
    if not kept:
        raise ValidationFailed("Set at least one filter or a search before saving.", field="query")
    return kept.urlencode()


@transaction.atomic
def saved_filter_create(*, project: Project, user: User, name: str, query: str) -> SavedItemFilter:
    """Raises ValidationFailed on ``name`` (empty, too long, taken in this project) or ``query``."""
    name = name.strip()
    if not name:
        raise ValidationFailed("Give the filter a name.", field="name")
    if len(name) > MAX_NAME:
        raise ValidationFailed(
            f"A name has at most {MAX_NAME} characters; this one has {len(name)}.", field="name"
        )
    if SavedItemFilter.objects.filter(project=project, name__iexact=name).exists():
        raise ValidationFailed(f"This project already has a saved filter named {name!r}.", field="name")
    normalised = saved_filter_query(project=project, query=query)
    try:
        with transaction.atomic():
            return SavedItemFilter.objects.create(
                project=project, name=name, query=normalised, created_by=user
            )
    except IntegrityError:
        raise ValidationFailed(
            f"This project already has a saved filter named {name!r}.", field="name"
        ) from None


@transaction.atomic
def saved_filter_delete(*, project: Project, access: Access | None, user: User, filter_id: int) -> None:
    """Its author or a manager deletes it. Raises NotFound (not in this project) or Forbidden."""
    saved = SavedItemFilter.objects.filter(project=project, pk=filter_id).first()
    if saved is None:
        raise NotFound("No saved filter with this id in the project.")
    is_manager = user.is_staff or (access is not None and access.has_role(Role.MANAGER))
    if saved.created_by_id != user.pk and not is_manager:
        raise Forbidden("Only its author or a manager may delete a saved filter.")
    saved.delete()
