import json

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render

from annotation import selectors
from annotation.forms import GuidelineForm, MemberAddForm, ProjectCreateForm, ProjectSettingsForm
from annotation.label_colours import label_colour
from annotation.models import Role
from annotation.rendering import markdown_to_safe_html
from annotation.services import projects as project_services
from annotation.services.projects import LabelSpec
from annotation.textdiff import line_diff
from core.errors import ApplicationError
from core.pages import project_page
from core.panels import panels_for
from core.permissions import may_create_projects
from kinds.registry import kind_for


@login_required
def home(request):
    memberships = selectors.project_list_for_user(user=request.user)
    return render(
        request,
        "annotation/home.html",
        {"memberships": memberships, "may_create_projects": may_create_projects(user=request.user)},
    )


@login_required
def project_create(request):
    if not may_create_projects(user=request.user):
        # Raised, not returned, so the page is templates/403.html with the reason in words.
        raise PermissionDenied(
            "Creating projects needs site staff or membership of the “project creators” group; "
            "ask a site administrator."
        )
    form = ProjectCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        specs = [LabelSpec(**spec) for spec in form.label_specs()]
        data.pop("labels")
        try:
            project = project_services.project_create(user=request.user, labels=specs, **data)
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, f"Project “{project.name}” created.")
            return redirect("project-detail", pid=project.pk)
    return render(request, "annotation/project_create.html", {"form": form})


@project_page(role=Role.ANNOTATOR)
def project_detail(request, project, membership):
    role = membership.role if membership else Role.MANAGER
    context = {
        "project": project,
        "role": role,
        "is_manager": role == Role.MANAGER,
        "is_reviewer": role in (Role.REVIEWER, Role.MANAGER),
        "progress": selectors.progress_for_annotator(project=project, user=request.user),
        "gold_items": selectors.gold_item_count(project=project),
        "labels": project.labels.filter(is_active=True),
    }
    if context["is_reviewer"]:
        context["counts"] = selectors.project_status_counts(project=project)
        context["batches"] = project.batches.order_by("-number")[:10]
    context["panels"] = panels_for(project=project, user=request.user, membership_role=role)
    if context["is_manager"]:
        context["members"] = project.memberships.select_related("user").order_by("role", "user__username")
        context["member_form"] = MemberAddForm()
    return render(request, "annotation/project_detail.html", context)


@project_page(role=Role.MANAGER)
def member_add(request, project, membership):
    form = MemberAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = get_user_model().objects.filter(username=form.cleaned_data["username"]).first()
        if user is None:
            messages.error(request, "No user with that username.")
        else:
            project_services.membership_set(project=project, user_id=user.pk, role=form.cleaned_data["role"])
            messages.success(request, f"{user.username} is now {form.cleaned_data['role']}.")
    return redirect("project-detail", pid=project.pk)


@project_page(role=Role.MANAGER)
def guideline_edit(request, project, membership):
    current = selectors.guideline_latest(project=project)
    form = GuidelineForm(request.POST or None, initial={"body": current.body if current else ""})
    # "Preview" renders the draft exactly as annotators will see it, without publishing a version.
    previewing = request.method == "POST" and "preview" in request.POST
    preview_html = markdown_to_safe_html(request.POST.get("body", "")) if previewing else None
    if request.method == "POST" and not previewing and form.is_valid():
        try:
            guideline = project_services.guideline_create(
                project=project, author=request.user, **form.cleaned_data
            )
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, f"Guideline version {guideline.version} published.")
            return redirect("project-detail", pid=project.pk)
    versions = project.guidelines.select_related("author").order_by("-version")[:50]
    panels = panels_for(project=project, user=request.user, membership_role=Role.MANAGER, place="guideline")
    return render(
        request,
        "annotation/guideline_edit.html",
        {
            "project": project,
            "form": form,
            "versions": versions,
            "panels": panels,
            "preview_html": preview_html,
        },
    )


@project_page(role=Role.MANAGER)
def project_settings(request, project, membership):
    initial = {name: getattr(project, name) for name in ProjectSettingsForm.base_fields}
    initial["profile_thresholds"] = json.dumps(project.profile_thresholds or {})
    form = ProjectSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            project_services.project_update(project=project, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, "Settings saved.")
            return redirect("project-detail", pid=project.pk)
    return render(request, "annotation/project_settings.html", {"project": project, "form": form})


@project_page(role=Role.ANNOTATOR)
def label_page(request, project, membership):
    kind = kind_for(project)
    guideline = selectors.guideline_latest(project=project)
    labels = [
        {**label, "colour": label_colour(label["colour"], label.pop("order"))}
        for label in project.labels.filter(is_active=True).values(
            "value", "hotkey", "description", "colour", "order"
        )
    ]
    # The dialog says whether this is a first read or a change; for a change it shows what changed since the
    # version the annotator last acknowledged, so they need not reread the whole text.
    seen = membership.acknowledged_guideline_version if membership else 0
    ack_diff = None
    if guideline is not None and 0 < seen < guideline.version:
        previous = project.guidelines.filter(version=seen).only("body").first()
        if previous is not None:
            ack_diff = line_diff(previous.body, guideline.body)
    config = {
        "project": project.pk,
        **kind.value_schema.widget_settings(project=project),
        "taskType": project.task_type,
        "labels": labels,
        "guidelineVersion": guideline.version if guideline else 0,
        "guidelineNote": guideline.change_note if guideline else "",
        "acknowledged": membership.acknowledged_guideline_version
        if membership
        else (guideline.version if guideline else 0),
        "preannotation": project.preannotation_for_annotators,
    }
    return render(
        request,
        "annotation/label.html",
        {
            "project": project,
            "labels": labels,
            "guideline": guideline,
            "guideline_html": markdown_to_safe_html(guideline.body if guideline else ""),
            "ack_from": seen if ack_diff is not None else None,
            "ack_diff": ack_diff,
            "config": config,
            "widget_template": kind.widget_template,
            "widget_js": kind.widget_js,
            "panels": panels_for(
                project=project,
                user=request.user,
                membership_role=membership.role if membership else Role.MANAGER,
                place="label",
            ),
        },
    )
