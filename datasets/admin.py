from django.contrib import admin

from datasets.models import DatasetVersion


@admin.register(DatasetVersion)
class DatasetVersionAdmin(admin.ModelAdmin):
    """Read-only: versions are immutable (the database refuses changes anyway)."""

    list_display = ["id", "project", "number", "name", "n_entries", "checksum", "created_at"]
    list_filter = ["project"]
    readonly_fields = [field.name for field in DatasetVersion._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
