from django.conf import settings
from django.db import models
from django.db.models import Q

from annotation.label_colours import label_colour
from kinds.registry import task_type_choices


class Role(models.TextChoices):
    ANNOTATOR = "annotator", "Annotator"
    REVIEWER = "reviewer", "Reviewer"
    MANAGER = "manager", "Manager"


ROLE_RANK = {Role.ANNOTATOR: 1, Role.REVIEWER: 2, Role.MANAGER: 3}


class ConsensusMethod(models.TextChoices):
    AUTO = "auto", "CROWDLAB when model probabilities exist, else Dawid–Skene"
    MAJORITY = "majority_vote", "Majority vote"
    DAWID_SKENE = "dawid_skene", "Dawid–Skene"
    CROWDLAB = "crowdlab", "CROWDLAB"


class Project(models.Model):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # Whatever the registered task kinds serve; a callable, so a new kind needs no edit (and no migration) here.
    task_type = models.CharField(max_length=32, choices=task_type_choices)
    multi_label = models.BooleanField(default=False)
    annotations_per_item = models.PositiveSmallIntegerField(default=3)
    max_annotations_per_item = models.PositiveSmallIntegerField(default=5)
    early_stopping = models.BooleanField(default=False)
    gold_rate = models.FloatField(default=0.0)
    lease_seconds = models.PositiveIntegerField(default=900)
    sampling_strategy = models.CharField(max_length=32, default="margin")
    consensus_method = models.CharField(
        max_length=32, choices=ConsensusMethod.choices, default=ConsensusMethod.AUTO
    )
    review_confidence_threshold = models.FloatField(default=0.6)
    rescore_every = models.PositiveIntegerField(default=200)
    profile_thresholds = models.JSONField(default=dict, blank=True)
    route_flagged_to_review = models.BooleanField(default=True)
    preannotation_for_annotators = models.BooleanField(default=False)
    # Span projects: a selection snaps to whole tokens (runs of non-whitespace); off for character-level work.
    span_snap_tokens = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(annotations_per_item__gte=1), name="project_k_positive"),
            models.CheckConstraint(
                condition=Q(gold_rate__gte=0) & Q(gold_rate__lte=1), name="project_gold_rate_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Label(models.Model):
    """One entry of a project's ordered label set. Inactive labels were merged/renamed away."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="labels")
    value = models.CharField(max_length=100)
    hotkey = models.CharField(max_length=1, blank=True)
    description = models.TextField(blank=True)
    # "#rrggbb"; blank: the palette colour of its place in the label set (``annotation.label_colours``).
    colour = models.CharField(max_length=7, blank=True)
    order = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    # A label merged or renamed away: the current label its votes count for (chains already resolved). Kept on
    # this row, not only in quality's schema history, so every app reads the same mapping from the lowest layer.
    replaced_by = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "value"], name="label_unique_value"),
            models.UniqueConstraint(
                fields=["project", "hotkey"],
                condition=~Q(hotkey="") & Q(is_active=True),
                name="label_unique_hotkey",
            ),
        ]

    def __str__(self) -> str:
        return self.value

    @property
    def shown_colour(self) -> str:
        """The colour pages show it in: its own, else the palette's for its place (``annotation.label_colours``)."""
        return label_colour(self.colour, self.order)


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    acknowledged_guideline_version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    # Declared for the type checker only (no value, so Django makes no field and no class attribute): the access
    # check core.permissions.membership_for sets them from its one query, the project's newest guideline (None
    # when it has none). A membership loaded any other way does not have them.
    latest_guideline_id: int | None
    latest_guideline_version: int | None

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "project"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.project_id}:{self.role}"

    def has_role(self, role: str) -> bool:
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(role)]


class Guideline(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="guidelines")
    version = models.PositiveIntegerField()
    body = models.TextField(blank=True)
    change_note = models.CharField(max_length=500, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["project", "version"], name="guideline_unique_version")
        ]

    def __str__(self) -> str:
        return f"{self.project_id} v{self.version}"
