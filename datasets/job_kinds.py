"""The kind of job the datasets app runs (the value rows store)."""

from core.job_kinds import register_job_kind

FREEZE_JOB = register_job_kind("freeze", "Dataset freeze")
