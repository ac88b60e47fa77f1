"""Active-learning state: fitted feature spaces, cached per-item features, model versions, latest predictions.

Predictions keep only the latest row per item (one-to-one), so storage and every scoring pass stay linear in the
number of items however many versions are trained; ``previous_predicted`` keeps the label the version before
predicted, which is all prediction stability needs. A prediction names the job that wrote it; the model version
is reached through ``ModelVersion.job`` (one-to-one), because a version row is only created once its job has
finished and the predictions are written before that.
"""

import numpy as np
from django.db import models

from annotation.models import Item, Project
from core.models import Job


class FeatureSpace(models.Model):
    """One feature extractor for a project. ``key`` is what cached features record: the extractor identity, plus
    a fit id for extractors fitted on the corpus (text), whose pickled state is kept so later items land in the
    same space. The newest row per project (by id) is current; rows are never edited."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="al_feature_spaces")
    key = models.CharField(max_length=200)
    extractor = models.CharField(max_length=200)
    params = models.JSONField(default=dict, blank=True)
    # Pickled fitted extractor (written and read only by this app's worker code); empty for stateless extractors.
    state = models.BinaryField(null=True, blank=True, editable=False)
    dim = models.PositiveIntegerField()
    n_fit_items = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "key"], name="al_featurespace_unique_key")]

    def __str__(self) -> str:
        return self.key


class FeatureCache(models.Model):
    """An item's feature vector (float32 bytes) in one feature space; ``error`` set and no vector when the
    item's content could not be read."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="al_features")
    extractor = models.CharField(max_length=200)
    vector = models.BinaryField(null=True, blank=True, editable=False)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "extractor"], name="al_featurecache_unique")]
        indexes = [models.Index(fields=["extractor", "item"], name="al_featurecache_key_idx")]

    def __str__(self) -> str:
        return f"{self.item_id}@{self.extractor}"

    @property
    def values(self) -> np.ndarray | None:
        return None if self.vector is None else np.frombuffer(bytes(self.vector), dtype=np.float32)


class ModelVersion(models.Model):
    """One trained base model: its metrics, learning curve, stopping signals and the settings that made it."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="al_model_versions")
    job = models.OneToOneField(
        Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="al_model_version"
    )
    version = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    extractor = models.CharField(max_length=200, help_text="Feature-space key the model was trained in.")
    extractor_name = models.CharField(max_length=100)
    extractor_version = models.CharField(max_length=50)
    seed = models.IntegerField(default=0)
    strategy = models.CharField(max_length=32)
    label_values = models.JSONField(default=list, help_text="Class order of the probability columns.")
    config = models.JSONField(default=dict, blank=True)
    n_train = models.PositiveIntegerField()
    n_labelled = models.PositiveIntegerField(
        default=0, help_text="Items in a labelled status when it was trained."
    )
    n_pool = models.PositiveIntegerField(default=0)
    n_folds = models.PositiveSmallIntegerField(default=0)
    cv_accuracy = models.FloatField()
    per_label = models.JSONField(default=dict, blank=True)
    learning_curve = models.JSONField(default=list, blank=True)
    projection = models.JSONField(default=dict, blank=True)
    stability = models.JSONField(null=True, blank=True)
    summary = models.TextField(blank=True)
    worth_labelling = models.BooleanField(null=True)
    overlap = models.JSONField(default=dict, blank=True)
    # A kind's own model figures, e.g. a token model's out-of-sample span and token F1 (``model_f1``).
    figures = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "version"], name="al_modelversion_unique_version")
        ]
        indexes = [models.Index(fields=["project", "-version"], name="al_modelversion_latest_idx")]

    def __str__(self) -> str:
        return f"model v{self.version} of project {self.project_id}"

    @property
    def projection_or_none(self) -> dict | None:
        """The learning-curve projection, None for a model that fits none (the token model)."""
        return self.projection or None


class Prediction(models.Model):
    """The latest base-model output for one item. Labelled items hold out-of-sample (k-fold) probabilities,
    pool items ordinary ones plus a score per strategy, so the queue preview can re-rank without the model."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="al_prediction")
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    probs = models.BinaryField(
        editable=False, help_text="float32 probabilities in ModelVersion.label_values order"
    )
    predicted = models.CharField(max_length=100)
    previous_predicted = models.CharField(max_length=100, blank=True)
    is_out_of_sample = models.BooleanField(default=False)
    score = models.FloatField(
        null=True, blank=True, help_text="Score under the version's strategy (pool items)."
    )
    least_confidence = models.FloatField(null=True, blank=True)
    margin = models.FloatField(null=True, blank=True)
    entropy = models.FloatField(null=True, blank=True)
    bald = models.FloatField(null=True, blank=True)
    random = models.FloatField(null=True, blank=True)
    relabel_score = models.FloatField(
        null=True,
        blank=True,
        help_text="ActiveLab score for items with votes: lower means another label helps more.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["project", "is_out_of_sample"], name="al_prediction_project_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.predicted}"

    @property
    def probabilities(self) -> np.ndarray:
        return np.frombuffer(bytes(self.probs), dtype=np.float32)


class TokenPrediction(models.Model):
    """The token model's latest output for one item of a project whose answers are labelled per token (spans).

    ``probs`` holds float32 (tokens × ``n_classes``) probabilities in the version's IO order (outside, then one
    class per label). Labelled items hold out-of-sample (k-fold) ones and cleanlab's token label-issue check on
    the reference spans they were checked against (``checked_spans``); pool items hold the full model's ones
    and a score per selection measure."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="al_token_prediction")
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    probs = models.BinaryField(editable=False)
    n_classes = models.PositiveSmallIntegerField()
    predicted_spans = models.JSONField(default=list, blank=True)
    is_out_of_sample = models.BooleanField(default=False)
    checked_spans = models.JSONField(null=True, blank=True)
    is_issue = models.BooleanField(default=False)
    label_quality = models.FloatField(null=True, blank=True)
    flagged_tokens = models.JSONField(default=list, blank=True)
    reason = models.TextField(blank=True)
    score = models.FloatField(null=True, blank=True)
    mean_entropy = models.FloatField(null=True, blank=True)
    max_entropy = models.FloatField(null=True, blank=True)
    margin = models.FloatField(null=True, blank=True)
    bald = models.FloatField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["project", "is_issue"], name="al_tokenpred_issue_idx")]

    def __str__(self) -> str:
        return f"{self.item_id}: {len(self.predicted_spans or [])} spans"
