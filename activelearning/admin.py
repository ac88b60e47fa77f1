from django.contrib import admin

from activelearning.models import FeatureCache, FeatureSpace, ModelVersion, Prediction, TokenPrediction


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "project",
        "version",
        "strategy",
        "n_train",
        "cv_accuracy",
        "worth_labelling",
        "created_at",
    )
    list_filter = ("strategy",)
    raw_id_fields = ("project", "job")
    readonly_fields = ("learning_curve", "projection", "stability", "per_label", "overlap", "config")


@admin.register(FeatureSpace)
class FeatureSpaceAdmin(admin.ModelAdmin):
    list_display = ("id", "project", "key", "dim", "n_fit_items", "created_at")
    raw_id_fields = ("project",)
    exclude = ("state",)


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin):
    list_display = ("item", "predicted", "is_out_of_sample", "score", "relabel_score", "updated_at")
    list_filter = ("is_out_of_sample",)
    raw_id_fields = ("project", "item", "job")
    exclude = ("probs",)


@admin.register(FeatureCache)
class FeatureCacheAdmin(admin.ModelAdmin):
    """View-only: a cache rebuilt by the feature jobs; the vector bytes are not shown."""

    list_display = ("id", "item", "extractor", "error", "created_at")
    raw_id_fields = ("item",)
    exclude = ("vector",)
    show_full_result_count = (
        False  # one row per item and extractor: counting a large table on every page is slow
    )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(TokenPrediction)
class TokenPredictionAdmin(admin.ModelAdmin):
    """View-only: written by the token model's training job; the probability bytes are not shown."""

    list_display = ("item", "is_out_of_sample", "is_issue", "label_quality", "score", "updated_at")
    list_filter = ("is_out_of_sample", "is_issue")
    raw_id_fields = ("project", "item", "job")
    exclude = ("probs",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
