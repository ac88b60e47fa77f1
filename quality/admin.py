from django.contrib import admin

from annotation.admin import ViewOnlyAdmin
from quality.models import (
    AnnotatorQuality,
    ItemQuality,
    LabelExample,
    LabelSchemaChange,
    ProjectDashboardSnapshot,
    ProjectStatusSnapshot,
    QualityReport,
    ReviewDecision,
    SavedItemFilter,
)


@admin.register(QualityReport)
class QualityReportAdmin(admin.ModelAdmin):
    list_display = ("id", "project", "created_at", "consensus_method", "n_items", "krippendorff_alpha", "hlp")
    list_filter = ("consensus_method",)
    raw_id_fields = ("project", "job")


@admin.register(ItemQuality)
class ItemQualityAdmin(admin.ModelAdmin):
    list_display = ("id", "report", "item", "consensus_label", "confidence", "is_issue", "severity")
    list_filter = ("is_issue",)
    raw_id_fields = ("report", "item")


@admin.register(AnnotatorQuality)
class AnnotatorQualityAdmin(admin.ModelAdmin):
    list_display = ("id", "report", "user", "n_annotations", "agreement_with_consensus", "quality_score")
    raw_id_fields = ("report", "user")


class HistoryAdmin(ViewOnlyAdmin):
    """View-only: decisions and label-set changes are an append-only history written through quality.services
    (which also move item status and trigger quality runs); editing a row here would bypass all of that."""


@admin.register(ReviewDecision)
class ReviewDecisionAdmin(HistoryAdmin):
    list_display = ("id", "project", "item", "reviewer", "action", "label", "is_current", "created_at")
    list_filter = ("action", "is_current")
    raw_id_fields = ("project", "item", "reviewer", "supersedes", "guideline")


@admin.register(LabelSchemaChange)
class LabelSchemaChangeAdmin(HistoryAdmin):
    list_display = ("id", "project", "kind", "from_labels", "to_label", "author", "created_at")
    list_filter = ("kind",)
    raw_id_fields = ("project", "author", "quality_job")


@admin.register(LabelExample)
class LabelExampleAdmin(admin.ModelAdmin):
    list_display = ("id", "label", "item", "added_by", "note", "created_at")
    raw_id_fields = ("label", "item", "added_by")


@admin.register(ProjectDashboardSnapshot)
class ProjectDashboardSnapshotAdmin(admin.ModelAdmin):
    list_display = ("id", "project", "taken_at", "bucket")
    raw_id_fields = ("project",)


@admin.register(ProjectStatusSnapshot)
class ProjectStatusSnapshotAdmin(admin.ModelAdmin):
    list_display = ("id", "project", "day", "status", "count", "taken_at")
    list_filter = ("status",)
    raw_id_fields = ("project",)


@admin.register(SavedItemFilter)
class SavedItemFilterAdmin(admin.ModelAdmin):
    list_display = ("id", "project", "name", "query", "created_by", "created_at")
    raw_id_fields = ("project", "created_by")
