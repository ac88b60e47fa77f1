from django.contrib import admin

from quality.models import AnnotatorQuality, ItemQuality, QualityReport


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
