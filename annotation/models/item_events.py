import uuid

from django.db import models

from annotation.models.item import Item
from annotation.models.project import Project


class LabelledItemMark(models.Model):
    """An item labelled since the last per-item pass of its project ran over it: one row per item, however many
    labels arrived. A new label rewrites ``token``, so a pass deletes only the marks it read and a label that
    arrives while it runs keeps its mark for the next pass."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+")
    token = models.UUIDField(default=uuid.uuid4)
    marked_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item"], name="labelled_item_mark_item_uniq")]
        indexes = [models.Index(fields=["project", "id"], name="labelled_item_mark_project_idx")]

    def __str__(self) -> str:
        return f"item {self.item_id} labelled at {self.marked_at}"


class ItemPassSchedule(models.Model):
    """A per-item pass of the project is in the broker. The primary key keeps it to one: only the label that
    creates this row sends the task, and the pass deletes it as it starts."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, primary_key=True, related_name="+")
    enqueued_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"pass of project {self.project_id} enqueued at {self.enqueued_at}"
