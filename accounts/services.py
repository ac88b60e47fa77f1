"""Every write about people: invites, accounts, roles, removals, deactivation, each recorded as a MemberEvent.

Memberships themselves are annotation's rows and change only through ``annotation.services``."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from accounts.models import Invite, MemberEvent, MemberEventKind
from annotation.models import Membership, Project, Role
from annotation.services.memberships import membership_remove, membership_role_change
from annotation.services.projects import membership_set
from core.errors import Forbidden, ValidationFailed

INVITE_DAYS_DEFAULT = 7


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _event(
    *,
    kind: str,
    actor: User | None,
    project: Project | None,
    subject: User | None,
    name: str,
    detail: str = "",
) -> MemberEvent:
    return MemberEvent.objects.create(
        kind=kind, actor=actor, project=project, subject=subject, subject_name=name, detail=detail[:300]
    )


def _check_role(role: str) -> None:
    if role not in Role.values:
        raise ValidationFailed(f"Unknown role; choose one of {', '.join(Role.values)}.", field="role")


@transaction.atomic
def invite_create(
    *, project: Project, actor: User, role: str, email: str = "", accept_url_for
) -> tuple[Invite, str]:
    """Make an invite and return it with its token (stored only hashed, so this is the one chance to read it).

    ``accept_url_for(token)`` builds the absolute link; with an ``email`` the link is sent there. Raises
    ValidationFailed for an unknown role."""
    _check_role(role)
    token = secrets.token_urlsafe(32)
    days = int(getattr(settings, "LABELGATE_INVITE_DAYS", INVITE_DAYS_DEFAULT))
    invite = Invite.objects.create(
        project=project,
        role=role,
        email=email.strip(),
        token_hash=token_hash(token),
        created_by=actor,
        expires_at=timezone.now() + timedelta(days=days),
    )
    how = f"by e-mail to {invite.email}" if invite.email else "by link"
    _event(
        kind=MemberEventKind.INVITED,
        actor=actor,
        project=project,
        subject=None,
        name=invite.email or "(link)",
        detail=f"Invited {how} as {role}, valid until {invite.expires_at:%Y-%m-%d %H:%M} UTC",
    )
    if invite.email:
        link = accept_url_for(token)
        send_mail(
            subject=f"You are invited to {project.name} on Labelgate",
            message=(
                f"{actor.get_username()} invites you to work on “{project.name}” as {role}.\n\n"
                f"Open this link to choose a password and join (valid for {days} days, once):\n{link}\n"
            ),
            from_email=None,
            recipient_list=[invite.email],
        )
    return invite, token


def invite_for_token(*, token: str, for_update: bool = False) -> Invite:
    """The invite a token opens. Raises ValidationFailed (field ``token``) saying why it does not open one."""
    rows = Invite.objects.select_related("project")
    if for_update:
        rows = rows.select_for_update()
    invite = rows.filter(token_hash=token_hash(token)).first()
    if invite is None:
        raise ValidationFailed("This invite link is not valid.", field="token", code="invite_invalid")
    if invite.used_at is not None:
        raise ValidationFailed(
            "This invite link has already been used; ask the project's manager for a new one.",
            field="token",
            code="invite_used",
        )
    if invite.expires_at <= timezone.now():
        raise ValidationFailed(
            "This invite link has expired; ask the project's manager for a new one.",
            field="token",
            code="invite_expired",
        )
    return invite


@transaction.atomic
def invite_accept(
    *, token: str, user: User | None = None, username: str = "", password: str = "", email: str = ""
) -> tuple[User, Membership]:
    """Use an invite once: as the signed-in ``user``, or for a new account ``username`` with ``password``.

    Raises ValidationFailed for a bad token, a taken username or a password the validators refuse."""
    invite = invite_for_token(token=token, for_update=True)
    if user is None:
        username = username.strip()
        if not username:
            raise ValidationFailed("Choose a username.", field="username")
        model = get_user_model()
        if model.objects.filter(username__iexact=username).exists():
            raise ValidationFailed("That username is taken; choose another.", field="username")
        candidate = model(username=username, email=invite.email or email.strip())
        try:
            password_validation.validate_password(password, candidate)
        except ValidationError as exc:
            raise ValidationFailed(" ".join(exc.messages), field="password") from exc
        candidate.set_password(password)
        candidate.save()
        user = candidate
    existing = Membership.objects.filter(project=invite.project, user=user).first()
    # An invite never lowers a role the person already has.
    if existing is not None and existing.has_role(invite.role):
        membership = existing
    else:
        membership = membership_set(project=invite.project, user_id=user.pk, role=invite.role)
    invite.used_at = timezone.now()
    invite.used_by = user
    invite.save(update_fields=["used_at", "used_by"])
    _event(
        kind=MemberEventKind.INVITE_ACCEPTED,
        actor=user,
        project=invite.project,
        subject=user,
        name=user.get_username(),
        detail=f"Joined as {membership.role} with the invite of {invite.created_at:%Y-%m-%d %H:%M} UTC",
    )
    return user, membership


@transaction.atomic
def account_create(
    *, project: Project, actor: User, username: str, email: str, role: str, set_password_url_for
) -> User:
    """Create an account without a password, make it a member of ``project`` in ``role`` and e-mail it a link
    (``set_password_url_for(user)``, Django's password-reset link) to choose one.

    Raises ValidationFailed for a taken username, a missing e-mail or an unknown role."""
    _check_role(role)
    username, email = username.strip(), email.strip()
    if not username:
        raise ValidationFailed("An account needs a username.", field="username")
    if not email:
        raise ValidationFailed(
            "An account needs an e-mail address to receive its password link.", field="email"
        )
    model = get_user_model()
    if model.objects.filter(username__iexact=username).exists():
        raise ValidationFailed("That username is taken; choose another.", field="username")
    user = model(username=username, email=email)
    user.set_unusable_password()
    user.save()
    membership_set(project=project, user_id=user.pk, role=role)
    _event(
        kind=MemberEventKind.ACCOUNT_CREATED,
        actor=actor,
        project=project,
        subject=user,
        name=username,
        detail=f"Account created with the role {role}; a link to choose a password went to {email}",
    )
    # Sent inside the transaction: a mail server that refuses it undoes the account, so the manager can retry.
    send_mail(
        subject=f"Your Labelgate account for {project.name}",
        message=(
            f"{actor.get_username()} made you an account “{username}” to work on “{project.name}” as {role}."
            f"\n\nChoose your password here:\n{set_password_url_for(user)}\n"
        ),
        from_email=None,
        recipient_list=[email],
    )
    return user


@transaction.atomic
def member_add(*, project: Project, actor: User, username: str, role: str) -> Membership:
    """Add an existing active account by username. Raises ValidationFailed (field ``username``) if none."""
    _check_role(role)
    user = get_user_model().objects.filter(username=username.strip(), is_active=True).first()
    if user is None:
        raise ValidationFailed("No active account with that username; invite them instead.", field="username")
    membership = membership_set(project=project, user_id=user.pk, role=role)
    _event(
        kind=MemberEventKind.MEMBER_ADDED,
        actor=actor,
        project=project,
        subject=user,
        name=user.get_username(),
        detail=f"Added as {role}",
    )
    return membership


@transaction.atomic
def member_role_change(*, actor: User, membership: Membership, role: str) -> Membership:
    """Change a member's role, recorded. Raises ValidationFailed as ``membership_role_change`` does."""
    was = membership.role
    membership = membership_role_change(membership=membership, role=role)
    if was != role:
        _event(
            kind=MemberEventKind.ROLE_CHANGED,
            actor=actor,
            project=membership.project,
            subject=membership.user,
            name=membership.user.get_username(),
            detail=f"Role changed from {was} to {role}",
        )
    return membership


@transaction.atomic
def member_remove(*, actor: User, membership: Membership) -> None:
    """Remove a member from the project, recorded. Raises ValidationFailed for the last manager."""
    project, user, role = membership.project, membership.user, membership.role
    membership_remove(membership=membership)
    _event(
        kind=MemberEventKind.REMOVED,
        actor=actor,
        project=project,
        subject=user,
        name=user.get_username(),
        detail=f"Removed (was {role})",
    )


@transaction.atomic
def user_deactivate(*, actor: User, user: User) -> User:
    """Switch an account off site-wide (staff only): it can no longer log in or use its API token. Its
    memberships and work stay, for the record. Raises Forbidden for non-staff, ValidationFailed for oneself."""
    if not actor.is_staff:
        raise Forbidden("Deactivating an account needs site staff; a manager removes people from a project.")
    if user.pk == actor.pk:
        raise ValidationFailed("You cannot deactivate your own account.", field="user")
    if not user.is_active:
        return user
    user.is_active = False
    user.save(update_fields=["is_active"])
    projects = Project.objects.filter(memberships__user=user).order_by("id")
    for project in projects:
        _event(
            kind=MemberEventKind.DEACTIVATED,
            actor=actor,
            project=project,
            subject=user,
            name=user.get_username(),
            detail="Account deactivated site-wide",
        )
    if not projects:
        _event(
            kind=MemberEventKind.DEACTIVATED,
            actor=actor,
            project=None,
            subject=user,
            name=user.get_username(),
            detail="Account deactivated site-wide",
        )
    return user
