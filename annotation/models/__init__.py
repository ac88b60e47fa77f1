from annotation.models.item import Item, ItemStatus, ItemTag
from annotation.models.item_events import ItemPassSchedule, LabelledItemMark
from annotation.models.project import Guideline, Label, Membership, Project, Role
from annotation.models.work import Annotation, Assignment, AssignmentState

__all__ = [
    "Annotation",
    "Assignment",
    "AssignmentState",
    "Guideline",
    "Item",
    "ItemPassSchedule",
    "ItemStatus",
    "ItemTag",
    "Label",
    "LabelledItemMark",
    "Membership",
    "Project",
    "Role",
]
