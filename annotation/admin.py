from django.contrib import admin

from annotation import hotpath_cache
from annotation.models import (
    Annotation,
    Assignment,
    Guideline,
    Item,
    ItemPassSchedule,
    ItemTag,
    Label,
    LabelledItemMark,
    Membership,
    Project,
)
from annotation.services.projects import memberships_changed


class LabelInline(admin.TabularInline):
    model = Label
    extra = 0


class ProjectCacheAdmin(admin.ModelAdmin):
    """Edits here change what the labelling hot path caches per project (settings, label set, guidelines): the
    project's cached entries are outdated after every save and delete, as the services do."""

    @staticmethod
    def _project_id(obj) -> int:
        return obj.pk if isinstance(obj, Project) else obj.project_id

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        hotpath_cache.project_changed(project_id=self._project_id(form.instance))

    def delete_model(self, request, obj):
        project_id = self._project_id(obj)
        super().delete_model(request, obj)
        hotpath_cache.project_changed(project_id=project_id)

    def delete_queryset(self, request, queryset):
        project_ids = {self._project_id(obj) for obj in queryset}
        super().delete_queryset(request, queryset)
        for project_id in project_ids:
            hotpath_cache.project_changed(project_id=project_id)


@admin.register(Project)
class ProjectAdmin(ProjectCacheAdmin):
    list_display = ("id", "name", "task_type", "multi_label", "annotations_per_item", "created_at")
    inlines = [LabelInline]


@admin.register(Membership)
class MembershipAdmin(ProjectCacheAdmin):
    """Saves and deletes here change who the queue can serve, as ``membership_set`` does: the queue is brought in
    line afterwards (items closed short reopen, items nobody is left for close)."""

    list_display = ("user", "project", "role")
    list_filter = ("role",)

    def save_model(self, request, obj, form, change):
        before = (
            Membership.objects.filter(pk=obj.pk).values_list("project_id", flat=True).first()
            if change
            else None
        )
        super().save_model(request, obj, form, change)
        memberships_changed(project_ids=[pk for pk in (before, obj.project_id) if pk is not None])

    def delete_model(self, request, obj):
        project_id = obj.project_id
        super().delete_model(request, obj)
        memberships_changed(project_ids=[project_id])

    def delete_queryset(self, request, queryset):
        project_ids = list(queryset.values_list("project_id", flat=True).distinct())
        super().delete_queryset(request, queryset)
        memberships_changed(project_ids=project_ids)


@admin.register(Guideline)
class GuidelineAdmin(ProjectCacheAdmin):
    list_display = ("project", "version", "change_note", "author", "created_at")


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "project",
        "external_id",
        "status",
        "annotation_count",
        "priority",
        "is_label_issue",
    )
    list_filter = ("status", "is_gold", "is_label_issue")
    search_fields = ("external_id",)
    raw_id_fields = ("batch",)


@admin.register(Annotation)
class AnnotationAdmin(admin.ModelAdmin):
    list_display = ("id", "item", "annotator", "labels", "unsure", "unusable", "is_live", "created_at")
    raw_id_fields = ("item", "assignment", "supersedes")


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ("id", "item", "annotator", "state", "expires_at")
    raw_id_fields = ("item",)


admin.site.register(Label, ProjectCacheAdmin)
admin.site.register(ItemTag)


class ViewOnlyAdmin(admin.ModelAdmin):
    """View-only in the admin: rows that only their owning service may write (history, frozen data, bookkeeping
    the per-item passes rely on). Apps subclass it and say in their docstring why a row must not be edited here."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# Per-item pass bookkeeping: view-only, so an admin cannot drop a mark and lose an item's consensus update.
@admin.register(LabelledItemMark)
class LabelledItemMarkAdmin(ViewOnlyAdmin):
    list_display = ("item", "project", "marked_at")
    raw_id_fields = ("item", "project")


@admin.register(ItemPassSchedule)
class ItemPassScheduleAdmin(ViewOnlyAdmin):
    list_display = ("project", "enqueued_at")
