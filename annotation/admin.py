from django.contrib import admin

from annotation.models import (
    Annotation,
    Assignment,
    Guideline,
    ImportBatch,
    Item,
    ItemTag,
    Job,
    Label,
    Membership,
    Project,
)


class LabelInline(admin.TabularInline):
    model = Label
    extra = 0


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "task_type", "multi_label", "annotations_per_item", "created_at")
    inlines = [LabelInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "project", "role")
    list_filter = ("role",)


@admin.register(Guideline)
class GuidelineAdmin(admin.ModelAdmin):
    list_display = ("project", "version", "change_note", "author", "created_at")


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ("id", "project", "external_id", "status", "annotation_count", "priority", "is_label_issue")
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


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "project", "status", "progress", "created_at", "finished_at")
    list_filter = ("kind", "status")


admin.site.register(Label)
admin.site.register(ImportBatch)
admin.site.register(ItemTag)
