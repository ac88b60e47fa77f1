"""Results of a quality run. Every row belongs to the run (job) that made it; a re-run of the same job
replaces its rows (delete-and-insert), so retries never duplicate anything."""

from django.conf import settings
from django.db import models

#: The report's class-agreement figures stored with their interval (``<name>``, ``<name>_ci_low``,
#: ``<name>_ci_high``): the run stores these, and a kind that computes none of them fills these with None.
CLASS_AGREEMENT_FIGURES = (
    "krippendorff_alpha",
    "fleiss_kappa",
    "mean_pairwise_cohen_kappa",
    "percent_agreement",
    "hlp",
    "hlp_gold",
)


class QualityReport(models.Model):
    """Project-level agreement, HLP and slices for one quality job. Undefined statistics are stored as NULL."""

    project = models.ForeignKey(
        "annotation.Project", on_delete=models.CASCADE, related_name="quality_reports"
    )
    job = models.OneToOneField("core.Job", on_delete=models.CASCADE, related_name="quality_report")
    created_at = models.DateTimeField(auto_now_add=True)
    consensus_method = models.CharField(max_length=32)
    n_items = models.PositiveIntegerField(default=0)
    n_annotations = models.PositiveIntegerField(default=0)
    n_annotators = models.PositiveIntegerField(default=0)
    n_boot = models.PositiveIntegerField(default=0)
    krippendorff_alpha = models.FloatField(null=True, blank=True)
    krippendorff_alpha_ci_low = models.FloatField(null=True, blank=True)
    krippendorff_alpha_ci_high = models.FloatField(null=True, blank=True)
    fleiss_kappa = models.FloatField(null=True, blank=True)
    fleiss_kappa_ci_low = models.FloatField(null=True, blank=True)
    fleiss_kappa_ci_high = models.FloatField(null=True, blank=True)
    mean_pairwise_cohen_kappa = models.FloatField(null=True, blank=True)
    mean_pairwise_cohen_kappa_ci_low = models.FloatField(null=True, blank=True)
    mean_pairwise_cohen_kappa_ci_high = models.FloatField(null=True, blank=True)
    weighted_pairwise_cohen_kappa = models.FloatField(null=True, blank=True)
    percent_agreement = models.FloatField(null=True, blank=True)
    percent_agreement_ci_low = models.FloatField(null=True, blank=True)
    percent_agreement_ci_high = models.FloatField(null=True, blank=True)
    hlp = models.FloatField(null=True, blank=True)
    hlp_ci_low = models.FloatField(null=True, blank=True)
    hlp_ci_high = models.FloatField(null=True, blank=True)
    hlp_gold = models.FloatField(null=True, blank=True)
    hlp_gold_ci_low = models.FloatField(null=True, blank=True)
    hlp_gold_ci_high = models.FloatField(null=True, blank=True)
    model_accuracy = models.FloatField(null=True, blank=True)
    # HLP and the base model's accuracy per reference ("consensus", "gold"), each pair on the same items, with the
    # model named: ``model_accuracy`` alone does not say which reference or items it was measured on.
    accuracy_by_reference = models.JSONField(default=list, blank=True)
    # The model whose probabilities the label-issue check used, as pages name it ("" when no model check ran).
    flag_model = models.CharField(max_length=120, blank=True)
    # Items whose label is probably wrong (``is_issue``), not every item with a reason to look.
    n_issues = models.PositiveIntegerField(default=0)
    n_routed_to_review = models.PositiveIntegerField(default=0)
    per_label = models.JSONField(default=dict, blank=True)
    per_tag = models.JSONField(default=dict, blank=True)
    per_guideline_version = models.JSONField(default=dict, blank=True)
    pairwise = models.JSONField(default=list, blank=True)
    error_analysis = models.JSONField(default=list, blank=True)
    explanations = models.JSONField(default=list, blank=True)
    # Last Dawid–Skene fit (user ids, label values, confusion matrices, priors) for the cheap per-item update.
    consensus_params = models.JSONField(default=dict, blank=True)
    # Figures only the project's task kind has (span F1 for spans, ...), served beside the shared ones.
    kind_figures = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["project", "-created_at"], name="qreport_project_idx")]

    def __str__(self) -> str:
        return f"quality report {self.pk} of project {self.project_id}"


class ItemQuality(models.Model):
    report = models.ForeignKey(QualityReport, on_delete=models.CASCADE, related_name="items")
    item = models.ForeignKey("annotation.Item", on_delete=models.CASCADE, related_name="quality_rows")
    consensus_label = models.JSONField(null=True, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    is_tie = models.BooleanField(default=False)
    label_quality = models.FloatField(null=True, blank=True)
    # The label is probably wrong (cleanlab's pruning on the run's model probabilities, or a gold mismatch);
    # ``reasons`` may list reasons to look without it.
    is_issue = models.BooleanField(default=False)
    reasons = models.JSONField(default=list, blank=True)
    severity = models.FloatField(default=0.0)
    # Top label of the report's ``flag_model`` for this item; None where it was not model-checked.
    model_label = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["report", "item"], name="itemquality_unique_report_item")
        ]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.consensus_label}"


class AnnotatorQuality(models.Model):
    report = models.ForeignKey(QualityReport, on_delete=models.CASCADE, related_name="annotators")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    n_annotations = models.PositiveIntegerField(default=0)
    agreement_with_consensus = models.FloatField(null=True, blank=True)
    agreement_with_others = models.FloatField(null=True, blank=True)
    # Judgements behind the two agreements (null on reports stored before they were counted): leave-one-out
    # counts only items whose other annotators have a majority, often a handful for an annotator with few items.
    n_agreement_with_consensus = models.PositiveIntegerField(null=True, blank=True)
    n_agreement_with_others = models.PositiveIntegerField(null=True, blank=True)
    kappa_vs_others = models.FloatField(null=True, blank=True)
    gold_accuracy = models.FloatField(null=True, blank=True)
    n_gold = models.PositiveIntegerField(default=0)
    quality_score = models.FloatField(null=True, blank=True)
    median_lead_time_s = models.FloatField(null=True, blank=True)
    confusion = models.JSONField(default=list, blank=True)
    # The annotator's figures only the project's task kind has (span precision/recall/F1, ...).
    kind_figures = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["report", "user"], name="annotatorquality_unique_report_user")
        ]

    def __str__(self) -> str:
        return f"annotator {self.user_id} in report {self.report_id}"


class ProjectStatusSnapshot(models.Model):
    """A project's items in one status on one day, as the day's last snapshot found them: the status history
    behind the dashboard's items-over-time chart (``Item.status`` keeps only the present). Written by the
    ``quality.status_snapshot`` beat task, which upserts today's rows, so a re-run changes no other day."""

    project = models.ForeignKey("annotation.Project", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    status = models.CharField(max_length=16)
    count = models.PositiveIntegerField(default=0)
    taken_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "day", "status"], name="statussnapshot_unique_day_status"
            )
        ]
        # The dashboard snapshot task finds large projects by today's and yesterday's rows of every project.
        indexes = [models.Index(fields=["day"], name="statussnapshot_day_idx")]

    def __str__(self) -> str:
        return f"{self.project_id} {self.day} {self.status}: {self.count}"


class ProjectDashboardSnapshot(models.Model):
    """A large project's dashboard aggregates that read every item, annotation or decision row, as the
    ``quality.dashboard_snapshot`` beat task found them at ``taken_at``; one row per project, replaced by each run
    (an upsert, so a repeated run changes nothing else). The dashboard shows them, with their time, while they are
    a few minutes old (``quality.dashboard.selectors.stored_figures``)."""

    project = models.OneToOneField("annotation.Project", on_delete=models.CASCADE, related_name="+")
    taken_at = models.DateTimeField()
    bucket = models.CharField(max_length=8)  # "day" or "week": how the two series are bucketed
    counts = models.JSONField(default=dict)  # items per status and "total"
    issues = models.JSONField(default=dict)  # label issues: "total", "open", "kind_<reason>"
    discard_reasons = models.JSONField(default=list)  # [{"reason", "n"}], most frequent first
    annotations = models.JSONField(default=list)  # [[ISO day, annotator id, username, n]]
    decisions = models.JSONField(default=list)  # [[ISO day, action, is_current, n]]

    def __str__(self) -> str:
        return f"dashboard snapshot of project {self.project_id} at {self.taken_at}"


# --- Review decisions, label-schema changes and label examples (quality.review) ---------------------------------


class ReviewAction(models.TextChoices):
    ACCEPT = "accept", "Accept"
    RELABEL = "relabel", "Send back for relabelling"
    DISCARD = "discard", "Discard"
    ESCALATE = "escalate", "Escalate to the guideline"


class ReviewDecision(models.Model):
    """A reviewer's decision on one item. Append-only: a newer decision supersedes the current one (which loses
    ``is_current``), so the item's history keeps every decision in order. ``Item.status``/``final_label``
    follow the current decision."""

    project = models.ForeignKey(
        "annotation.Project", on_delete=models.CASCADE, related_name="review_decisions"
    )
    item = models.ForeignKey("annotation.Item", on_delete=models.CASCADE, related_name="review_decisions")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=16, choices=ReviewAction.choices)
    label = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    supersedes = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    is_current = models.BooleanField(default=True)
    # The guideline version in force when the decision was taken (what an escalation asks to be clarified).
    guideline = models.ForeignKey(
        "annotation.Guideline", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    guideline_version = models.PositiveIntegerField(default=0)
    previous_status = models.CharField(max_length=16, blank=True)
    # Relabel: the annotations this decision took out of the count (kept, no longer live).
    superseded_annotations = models.JSONField(default=list, blank=True)
    # Decisions made together by one bulk action share this id.
    bulk_id = models.UUIDField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["item"],
                condition=models.Q(is_current=True),
                name="reviewdecision_one_current_per_item",
            ),
        ]
        indexes = [
            models.Index(fields=["project", "action", "is_current"], name="reviewdecision_action_idx"),
            models.Index(fields=["item", "created_at"], name="reviewdecision_item_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.item_id} by {self.reviewer_id}"


class LabelChangeKind(models.TextChoices):
    MERGE = "merge", "Merge"
    RENAME = "rename", "Rename"
    ADD = "add", "Add"


class LabelSchemaChange(models.Model):
    """One change of a project's label set. Annotations are never rewritten: ``mapping`` (old value → new value)
    is applied when the quality adapter reads labels."""

    project = models.ForeignKey("annotation.Project", on_delete=models.CASCADE, related_name="label_changes")
    kind = models.CharField(max_length=16, choices=LabelChangeKind.choices)
    from_labels = models.JSONField(default=list, blank=True)
    to_label = models.CharField(max_length=100)
    mapping = models.JSONField(default=dict, blank=True)
    note = models.CharField(max_length=500, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    quality_job = models.ForeignKey(
        "core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["project", "created_at"], name="labelchange_project_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.from_labels} → {self.to_label}"


class LabelExample(models.Model):
    """An item a reviewer picked as an example of a label; shown with the guideline."""

    label = models.ForeignKey("annotation.Label", on_delete=models.CASCADE, related_name="examples")
    item = models.ForeignKey("annotation.Item", on_delete=models.CASCADE, related_name="+")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["label", "item"], name="labelexample_unique")]

    def __str__(self) -> str:
        return f"{self.item_id} as {self.label_id}"


class SavedItemFilter(models.Model):
    """A named set of the items browser's filters, shared by the project's reviewers and managers. ``query`` is
    the browser's URL query (``status=needs_review&imported=2026-11-02..``), checked and normalised when saved."""

    project = models.ForeignKey(
        "annotation.Project", on_delete=models.CASCADE, related_name="saved_item_filters"
    )
    name = models.CharField(max_length=80)
    query = models.CharField(max_length=2000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="saveditemfilter_unique_name")
        ]

    def __str__(self) -> str:
        return self.name
