from django.contrib import admin

from annotation.admin import ViewOnlyAdmin
from datasets.models import DatasetEntry, DatasetVersion, SplitAssignment


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


class ImmutableAdmin(ViewOnlyAdmin):
    """View-only: entries and split assignments are written once by the freeze and never change."""

    show_full_result_count = False  # a million-entry version makes a full count on every page slow


@admin.register(DatasetEntry)
class DatasetEntryAdmin(ImmutableAdmin):
    list_display = ["id", "version", "item", "external_id", "label", "label_source", "split", "confidence"]
    list_filter = ["label_source", "split"]
    raw_id_fields = ["version", "item"]


@admin.register(SplitAssignment)
class SplitAssignmentAdmin(ImmutableAdmin):
    list_display = ["id", "project", "item", "split", "first_version"]
    list_filter = ["split"]
    raw_id_fields = ["project", "item", "first_version"]
