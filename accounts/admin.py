from django.contrib import admin

from accounts.models import Invite, MemberEvent


@admin.register(Invite)
class InviteAdmin(admin.ModelAdmin):
    list_display = ("id", "project", "role", "email", "created_by", "expires_at", "used_at", "used_by")
    list_filter = ("role",)
    # Invites are made on the members page (the token is shown only there); here they can be read or revoked.
    readonly_fields = [f.name for f in Invite._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(MemberEvent)
class MemberEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "project", "actor", "kind", "subject_name", "detail")
    list_filter = ("kind",)

    # The record of who changed a project's people is append-only, for staff too.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
