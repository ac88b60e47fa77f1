from annotation.models.item import ImportBatch, Item, ItemStatus, ItemTag
from annotation.models.job import Job, JobKind, JobStatus
from annotation.models.project import Guideline, Label, Membership, Project, Role, TaskType
from annotation.models.work import Annotation, Assignment, AssignmentState

__all__ = [
    "Annotation",
    "Assignment",
    "AssignmentState",
    "Guideline",
    "ImportBatch",
    "Item",
    "ItemStatus",
    "ItemTag",
    "Job",
    "JobKind",
    "JobStatus",
    "Label",
    "Membership",
    "Project",
    "Role",
    "TaskType",
]
