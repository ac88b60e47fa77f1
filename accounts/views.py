from django.contrib import messages
from django.contrib.auth import login
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from accounts import selectors, services
from accounts.forms import AccountCreateForm, InviteAcceptForm, InviteForm, MemberAddExistingForm
from accounts.links import invite_url, set_password_url
from annotation.models import Role
from annotation.selectors import membership_list
from core.errors import ApplicationError
from core.pages import project_page


def _members_context(request, project, **forms) -> dict:
    return {
        "project": project,
        "members": membership_list(project=project),
        "roles": Role.choices,
        "invites": selectors.invites_open_for_project(project=project, now=timezone.now()),
        "events": selectors.member_events_for_project(project=project)[:100],
        "invite_form": forms.get("invite_form") or InviteForm(),
        "account_form": forms.get("account_form") or AccountCreateForm(),
        "add_form": forms.get("add_form") or MemberAddExistingForm(),
        "new_link": request.session.pop("labelgate_new_invite_link", None),
    }


@project_page(role=Role.MANAGER, methods=["GET"])
def members(request, project, membership):
    return render(request, "accounts/members.html", _members_context(request, project))


def _form_error(form, exc: ApplicationError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@project_page(role=Role.MANAGER, methods=["POST"])
def invite(request, project, membership):
    form = InviteForm(request.POST)
    if form.is_valid():
        _, token = services.invite_create(
            project=project,
            actor=request.user,
            role=form.cleaned_data["role"],
            email=form.cleaned_data["email"],
            accept_url_for=lambda t: invite_url(request, t),
        )
        if form.cleaned_data["email"]:
            messages.success(request, f"Invite sent to {form.cleaned_data['email']}.")
        else:
            # Shown once on the next page load and never stored: only the token's hash is kept.
            request.session["labelgate_new_invite_link"] = invite_url(request, token)
        return redirect("project-members", pid=project.pk)
    return render(request, "accounts/members.html", _members_context(request, project, invite_form=form))


@project_page(role=Role.MANAGER, methods=["POST"])
def account_create(request, project, membership):
    form = AccountCreateForm(request.POST)
    if form.is_valid():
        try:
            user = services.account_create(
                project=project,
                actor=request.user,
                set_password_url_for=lambda u: set_password_url(request, u),
                **form.cleaned_data,
            )
        except ApplicationError as exc:
            _form_error(form, exc)
        else:
            messages.success(
                request, f"Account {user.username} created; a password link went to {user.email}."
            )
            return redirect("project-members", pid=project.pk)
    return render(request, "accounts/members.html", _members_context(request, project, account_form=form))


@project_page(role=Role.MANAGER, methods=["POST"])
def member_add(request, project, membership):
    form = MemberAddExistingForm(request.POST)
    if form.is_valid():
        try:
            services.member_add(project=project, actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"{form.cleaned_data['username']} is now {form.cleaned_data['role']}.")
            return redirect("project-members", pid=project.pk)
    return render(request, "accounts/members.html", _members_context(request, project, add_form=form))


def _member_or_404(project, uid: int):
    member = selectors.membership_in_project(project=project, user_id=uid)
    if member is None:
        raise Http404("No member with that id in this project.")
    return member


@project_page(role=Role.MANAGER, methods=["POST"])
def member_role(request, project, membership, uid: int):
    member = _member_or_404(project, uid)
    try:
        services.member_role_change(actor=request.user, membership=member, role=request.POST.get("role", ""))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{member.user.username} is now {request.POST['role']}.")
    return redirect("project-members", pid=project.pk)


@project_page(role=Role.MANAGER, methods=["POST"])
def member_remove(request, project, membership, uid: int):
    member = _member_or_404(project, uid)
    try:
        services.member_remove(actor=request.user, membership=member)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{member.user.username} was removed from the project.")
    return redirect("project-members", pid=project.pk)


@project_page(role=Role.MANAGER, methods=["POST"])
def user_deactivate(request, project, membership, uid: int):
    member = _member_or_404(project, uid)
    try:
        services.user_deactivate(actor=request.user, user=member.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"The account {member.user.username} is deactivated site-wide.")
    return redirect("project-members", pid=project.pk)


def invite_accept(request, token: str):
    """Public: the link itself is the credential. A signed-in person joins as themselves; anyone else chooses
    a username and password for a new account."""
    try:
        invite = services.invite_for_token(token=token)
    except ApplicationError as exc:
        return render(request, "accounts/invite_invalid.html", {"reason": exc.message}, status=410)
    form = InviteAcceptForm(request.POST or None)
    if request.method == "POST":
        try:
            if request.user.is_authenticated and "join" in request.POST:
                user, member = services.invite_accept(token=token, user=request.user)
            elif form.is_valid():
                user, member = services.invite_accept(
                    token=token,
                    username=form.cleaned_data["username"],
                    password=form.cleaned_data["password1"],
                )
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            else:
                user = None
        except ApplicationError as exc:
            if exc.field == "token":
                return render(request, "accounts/invite_invalid.html", {"reason": exc.message}, status=410)
            form.add_error("password1" if exc.field == "password" else exc.field, exc.message)
        else:
            if user is not None:
                messages.success(request, f"Welcome to {invite.project.name}; you joined as {member.role}.")
                return redirect("project-detail", pid=invite.project_id)
    return render(
        request,
        "accounts/invite_accept.html",
        {"invite": invite, "form": form},
    )
