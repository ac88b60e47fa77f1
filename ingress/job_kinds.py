"""The kinds of job the ingress app runs (the values rows store)."""

from core.job_kinds import register_job_kind

IMPORT_JOB = register_job_kind("import", "Import")
NEAR_DUPLICATES_JOB = register_job_kind("near_duplicates", "Duplicate groups refresh")
