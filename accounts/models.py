from django.conf import settings
from django.db import models

from annotation.models import Project, Role

PROJECT_CREATORS_GROUP = "project creators"


class Invite(models.Model):
    """An invitation to join a project in a role: by e-mail (``email`` set) or by a link the manager hands on.

    Only the SHA-256 of the token is stored; the token itself is shown once, when the invite is made."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="invites")
    role = models.CharField(max_length=16, choices=Role.choices)
    email = models.EmailField(blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"invite {self.pk} to {self.project_id} as {self.role}"


class MemberEventKind(models.TextChoices):
    INVITED = "invited", "Invited"
    INVITE_ACCEPTED = "invite_accepted", "Accepted an invite"
    ACCOUNT_CREATED = "account_created", "Account created"
    MEMBER_ADDED = "member_added", "Member added"
    ROLE_CHANGED = "role_changed", "Role changed"
    REMOVED = "removed", "Removed from the project"
    DEACTIVATED = "deactivated", "Account deactivated"


class MemberEvent(models.Model):
    """One change to who may work in a project (append-only): who did it, when, to whom, and what."""

    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.CASCADE, related_name="member_events"
    )
    kind = models.CharField(max_length=32, choices=MemberEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as text too: the subject may be an e-mail address with no account yet, or an account deleted later.
    subject_name = models.CharField(max_length=254, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["project", "-created_at"], name="memberevent_project_time")]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject_name} in {self.project_id}"
