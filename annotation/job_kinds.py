"""The kinds of job the annotation app runs (the values rows store)."""

from core.job_kinds import register_job_kind

SELFTEST_JOB = register_job_kind("selftest", "Self-test")
IMPORT_JOB = register_job_kind("import", "Import")
NEAR_DUPLICATES_JOB = register_job_kind("near_duplicates", "Duplicate groups refresh")
