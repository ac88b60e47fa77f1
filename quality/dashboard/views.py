"""The dashboard page (``?csv=<chart>`` downloads one chart's numbers) and the reviewer's filtered items page.

Reviewers and managers only: annotators get 403, non-members 404.
"""

import csv

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.text import slugify

from annotation.flag_selectors import item_flag_explanations
from annotation.models import Role
from annotation.selectors import label_classes
from core.errors import ApplicationError, Forbidden, NotFound
from core.pages import project_page
from kinds.registry import kind_for
from quality.dashboard import item_filters
from quality.dashboard.forms import DashboardItemFilterForm
from quality.dashboard.page import dashboard_context
from quality.dashboard.selectors import saved_filter_list
from quality.dashboard.tables import TABLES, DashboardSource
from quality.selectors import base_model_column
from quality.services.saved_filters import saved_filter_create, saved_filter_delete

ITEMS_PER_PAGE = 50


def _csv_response(table, project) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{slugify(project.name) or "project"}-{project.pk}-{table.name}.csv"'
    )
    csv.writer(response).writerows(table.csv_rows())
    return response


@project_page(role=Role.REVIEWER)
def dashboard_page(request, project, membership):
    source = DashboardSource(project)
    if "csv" in request.GET:
        name = request.GET["csv"]
        if name in TABLES:
            return _csv_response(TABLES[name](source), project)
        # The kind's own panels (spans, boxes) are looked up only when asked for: they read every answer.
        own = {panel.name: panel.table for panel in source.kind_panels} if name else {}
        if name not in own:
            return HttpResponseBadRequest(
                f"csv: unknown chart {name!r}; choose one of {', '.join(sorted([*TABLES, *own]))}.",
                content_type="text/plain; charset=utf-8",
            )
        return _csv_response(own[name], project)
    return render(request, "quality/dashboard/dashboard.html", dashboard_context(source))


def _item_link_base(pid: int) -> str | None:
    """The review page of an item, when the review screens are installed (``…/0/`` with the id swapped in)."""
    try:
        return reverse("review-item", kwargs={"pid": pid, "item_id": 0})[:-2]
    except NoReverseMatch:
        return None


def label_text(value_schema, value: object) -> str:
    """A stored consensus or final label as a page says it: the kind's ``describe`` when it has one (``2 spans
    (LOC, PER)``), else the classes it names (``cat, dog``)."""
    describe = getattr(value_schema, "describe", None)
    if describe is not None:
        return describe(value)
    return ", ".join(str(c) for c in value_schema.label_classes(value))


@project_page(role=Role.REVIEWER)
def items_page(request, project, membership):
    form = DashboardItemFilterForm(request.GET, labels=label_classes(project=project))
    context = {
        "project": project,
        "form": form,
        "item_link": _item_link_base(project.pk),
        "saved_filters": list(saved_filter_list(project=project)),
        "current_query": request.GET.urlencode(),
    }
    if not form.is_valid():
        return render(request, "quality/dashboard/items.html", context, status=400)
    queryset = item_filters.items_filtered(project=project, **form.filters())
    page = Paginator(queryset, ITEMS_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    explained = item_flag_explanations(project=project, items=page.object_list)
    value_schema = kind_for(project).value_schema
    for item in page.object_list:
        item.flag_explanations = explained[item.pk]
        item.final_text = None if item.final_label is None else label_text(value_schema, item.final_label)
        item.consensus_text = (
            None if item.consensus_label is None else label_text(value_schema, item.consensus_label)
        )
    query = request.GET.copy()
    query.pop("page", None)
    context.update(
        {
            "page": page,
            "query": query.urlencode(),
            "filters": {k: v for k, v in form.filters().items() if v not in (None, "id")},
            "base_model_column": base_model_column(project=project, items=page.object_list),
        }
    )
    return render(request, "quality/dashboard/items.html", context)


def _back_to_items(project, query: str = "") -> HttpResponseRedirect:
    return redirect(f"{reverse('dashboard-items', kwargs={'pid': project.pk})}{'?' + query if query else ''}")


@project_page(role=Role.REVIEWER, methods=["POST"])
def saved_filter_create_page(request, project, membership):
    query = request.POST.get("query", "")
    try:
        saved = saved_filter_create(
            project=project, user=request.user, name=request.POST.get("name", ""), query=query
        )
    except ApplicationError as exc:
        messages.error(request, f"Not saved: {exc.message}")
        return _back_to_items(project, query)
    messages.success(request, f"Saved the filters as “{saved.name}”.")
    return _back_to_items(project, saved.query)


@project_page(role=Role.REVIEWER, methods=["POST"])
def saved_filter_delete_page(request, project, membership, filter_id: int):
    try:
        saved_filter_delete(project=project, access=membership, user=request.user, filter_id=filter_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from exc
    messages.success(request, "Deleted the saved filter.")
    return _back_to_items(project)
