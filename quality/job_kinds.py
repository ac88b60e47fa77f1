"""The kind of job the quality app runs (the value rows store)."""

from core.job_kinds import register_job_kind

QUALITY_JOB = register_job_kind("quality", "Quality run")
